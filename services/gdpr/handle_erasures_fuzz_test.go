package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/web"
)

// FuzzCreateErasureRequest decodes and validates arbitrary POST
// /v1/erasures bodies as the handler does (web.Decode, parseCustomerID).
// Nothing may panic; a refusal is a 4xx problem; an accepted id is the
// canonical form every participant's event check accepts. Seeds:
// testdata/fuzz/FuzzCreateErasureRequest and f.Add.
func FuzzCreateErasureRequest(f *testing.F) {
	f.Add("application/json", []byte(`{"customer_id":"0193F1E4-1234-7000-8000-000000000001"}`))
	f.Add("application/json", []byte(`{"customer_id":"{0193f1e4-1234-7000-8000-000000000001}"}`))
	f.Add("application/json", []byte(`{"customer_id":"urn:uuid:0193f1e4-1234-7000-8000-000000000001"}`))
	f.Add("application/json", []byte(`{"customer_id":42}`))
	f.Add("application/json", []byte(`{}`))
	f.Add("text/plain", []byte(`customer_id=1`))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/erasures", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		refused := func(err error) {
			p, ok := errors.AsType[*web.Problem](err)
			if !ok || p.Status < 400 || p.Status > 499 {
				t.Fatalf("refusal %v is not a 4xx problem", err)
			}
		}
		req, err := web.Decode[erasureRequest](httptest.NewRecorder(), r, maxBodyBytes)
		if err != nil {
			refused(err)
			return
		}
		id, err := parseCustomerID(req.CustomerID)
		if err != nil {
			refused(err)
			return
		}
		if !events.ValidUUID(id.String()) {
			t.Fatalf("accepted customer id %q is not canonical: %s", req.CustomerID, id)
		}
	})
}
