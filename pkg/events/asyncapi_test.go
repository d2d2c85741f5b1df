package events_test

import (
	"os"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
)

// TestAsyncAPIDocumentsContract keeps asyncapi.yaml in step with the Go
// contract: every stream, stream subject, channel address, filter and event
// type of this package must appear in it.
func TestAsyncAPIDocumentsContract(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatalf("read asyncapi.yaml: %v", err)
	}
	doc := string(raw)
	if !strings.HasPrefix(doc, "asyncapi: 3.0.0\n") {
		t.Fatalf("asyncapi.yaml must start with asyncapi: 3.0.0")
	}

	type want struct{ name, text string }
	var wants []want
	for _, typ := range events.Types() {
		wants = append(wants, want{"type " + typ, "title: " + typ + "\n"}, want{"ce-type " + typ, "const: " + typ + "\n"})
	}
	for _, s := range events.Streams(events.DefaultRetention()) {
		wants = append(wants, want{"stream " + s.Name, "- name: " + s.Name + "\n"}, want{"channel in stream " + s.Name, "x-jetstream-stream: " + s.Name + "\n"})
		for _, subj := range s.Subjects {
			wants = append(wants, want{"stream subject " + subj, "subjects: [" + subj + "]"})
		}
	}
	for _, addr := range []string{
		events.OrderPlacedSubject("{customerId}"),
		events.OrderConfirmedSubject("{customerId}"),
		events.OrderRejectedSubject("{customerId}"),
		events.InventoryReservedSubject("{customerId}"),
		events.InventoryRejectedSubject("{customerId}"),
		events.SubjectErasureRequested,
		events.ErasureCompletedSubject("{service}"),
		events.SubjectErasureVerify,
		events.ErasureVerifiedSubject("{service}"),
		events.DLQSubject("{consumer}", "{originalSubject}"),
	} {
		wants = append(wants, want{"channel " + addr, "address: " + addr + "\n"})
	}
	for _, h := range []string{"ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject",
		"Content-Type", "Nats-Msg-Id", "traceparent", "tracestate",
		"Orderbus-Error", "Orderbus-Stream", "Orderbus-Consumer", "Orderbus-Stream-Seq", "Orderbus-Deliveries"} {
		wants = append(wants, want{"header " + h, "        " + h + ":\n"})
	}
	for _, f := range []string{events.FilterOrderPlaced, events.FilterOrderRejected, events.FilterInventory} {
		prefix := strings.TrimSuffix(f, ">")
		wants = append(wants, want{"filter " + f, "address: " + prefix})
	}

	for _, w := range wants {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(doc, w.text) {
				t.Errorf("asyncapi.yaml lacks %q", w.text)
			}
		})
	}
}
