package mailcatch

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// fakeMailHog serves a recorded MailHog v1.0.1 GET /api/v2/messages answer
// (testdata/mailhog_v2_messages.json: three mails written by go-mail
// v0.8.1, as MailHog's data.SMTPMessage.Parse stores them) with MailHog's
// paging (newest first, start, limit defaulting to 50 and capped at 250),
// and DELETE /api/v1/messages. It records the queries it was asked.
type fakeMailHog struct {
	mu      sync.Mutex
	items   []json.RawMessage
	queries []string
}

func newFakeMailHog(t *testing.T, edit func(items []map[string]any)) (*fakeMailHog, *httptest.Server) {
	t.Helper()
	b, err := os.ReadFile("testdata/mailhog_v2_messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var recorded struct{ Items []json.RawMessage }
	if err := json.Unmarshal(b, &recorded); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		generic := make([]map[string]any, len(recorded.Items))
		for i, raw := range recorded.Items {
			if err := json.Unmarshal(raw, &generic[i]); err != nil {
				t.Fatal(err)
			}
		}
		edit(generic)
		for i := range generic {
			if recorded.Items[i], err = json.Marshal(generic[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := &fakeMailHog{items: recorded.Items}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/messages", f.list)
	mux.HandleFunc("DELETE /api/v1/messages", func(http.ResponseWriter, *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.items = nil
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeMailHog) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.RawQuery)
	start, limit := 0, 50
	if n, err := strconv.Atoi(r.URL.Query().Get("start")); err == nil && n > 0 {
		start = n
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 250)
	}
	page := []json.RawMessage{}
	if start < len(f.items) {
		page = f.items[start:min(start+limit, len(f.items))]
	}
	b, _ := json.Marshal(map[string]any{"total": len(f.items), "count": len(page), "start": start, "items": page})
	w.Header().Add("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// wantRecorded is what the recorded mails hold, oldest first.
func wantRecorded() []Message {
	return []Message{
		{
			ID:        "ZbE74rPVPwnwzlpuaaC_Ne2dMCRTS2isWSNWstD3yUM=@mailhog.example",
			MessageID: "0193a3c2-7d4e-7b61-9f1a-2c5d8e0f4a11.receipt@orderbus.example",
			From:      "orders@orderbus.example",
			Subject:   "Your order 0193a3c2-7d4e-7b61-9f1a-2c5d8e0f4a11 — receipt",
			To:        []string{"alice@example.com"},
			Text: "Hello Alice Müller,\n\nthank you for your order 0193a3c2-7d4e-7b61-9f1a-2c5d8e0f4a11.\n\n" +
				"  2 × SKU-COFFEE-1KG\n  1 × SKU-MUG-BLUE\n\nTotal: 42,50 €. We will write again when it ships; " +
				"this line is deliberately long so that quoted-printable has to wrap it with a soft line break.\n\n— orderbus\n",
			HTML: "<!doctype html>\n<html><body>\n<p>Hello Alice Müller,</p>\n" +
				"<p>thank you for your order <strong>0193a3c2-7d4e-7b61-9f1a-2c5d8e0f4a11</strong>.</p>\n" +
				"<table><tr><td>2 ×</td><td>SKU-COFFEE-1KG</td></tr><tr><td>1 ×</td><td>SKU-MUG-BLUE</td></tr></table>\n" +
				"<p style=\"color:#333\">Total: 42,50&nbsp;€</p>\n</body></html>\n",
		},
		{
			ID:        "SNB_dL-xTAT8JbLxMI-238urG-ZGO4SIayVUcIG2uEk=@mailhog.example",
			MessageID: "0193a3c2-9a01-7c22-8b3e-5f6a7b8c9d02.apology@orderbus.example",
			From:      "orders@orderbus.example",
			Subject:   "We are sorry: order 0193a3c2-9a01-7c22-8b3e-5f6a7b8c9d02 was rejected",
			To:        []string{"bob@example.org"},
			// MailHog cuts the final CRLF with the SMTP end-of-data mark.
			Text: "Hello,\n\nwe could not fulfil order 0193a3c2-9a01-7c22-8b3e-5f6a7b8c9d02: SKU-TEA-GREEN is out of stock.\n" +
				"Nothing was charged. = signs and trailing spaces   \nmust survive.",
		},
		{
			ID:        "Q5ByhU-kDO3jLafnEE_u_TAldoIjah7PdoN1S_bCgyc=@mailhog.example",
			MessageID: "report-20251126@orderbus.example",
			From:      "ops@orderbus.example",
			Subject:   "Stock report",
			// audit@ was a Bcc: only in the envelope.
			To:   []string{"carol@example.net", "dave@example.net"},
			Text: "Stock report attached.\nLow: SKU-TEA-GREEN (0)\n",
			HTML: "<p>Stock report attached.</p><p>Low: <b>SKU-TEA-GREEN</b> (0)</p>",
		},
	}
}

func assertMessages(t *testing.T, got, want []Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		for _, f := range []struct{ name, got, want string }{
			{"ID", g.ID, w.ID}, {"MessageID", g.MessageID, w.MessageID}, {"From", g.From, w.From},
			{"Subject", g.Subject, w.Subject}, {"Text", g.Text, w.Text}, {"HTML", g.HTML, w.HTML},
		} {
			if f.want != "" && f.got != f.want {
				t.Errorf("message %d %s = %q, want %q", i, f.name, f.got, f.want)
			}
		}
		if w.HTML == "" && g.HTML != "" {
			t.Errorf("message %d HTML = %q, want none", i, g.HTML)
		}
		if !slices.Equal(g.To, w.To) {
			t.Errorf("message %d To = %q, want %q", i, g.To, w.To)
		}
		if g.Header("message-id") != "<"+w.MessageID+">" {
			t.Errorf("message %d Message-ID header = %q", i, g.Header("Message-ID"))
		}
	}
}

func TestMailHogMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		pageSize    int
		wantQueries []string
	}{
		{name: "one page", pageSize: 250, wantQueries: []string{"start=0&limit=250"}},
		{name: "paged", pageSize: 2, wantQueries: []string{"start=0&limit=2", "start=2&limit=2"}},
		{name: "page per message", pageSize: 1, wantQueries: []string{"start=0&limit=1", "start=1&limit=1", "start=2&limit=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFakeMailHog(t, nil)
			c := NewMailHog(srv.URL+"/", srv.Client())
			c.pageSize = tt.pageSize
			got, err := c.Messages(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			assertMessages(t, got, wantRecorded())
			if !slices.Equal(fake.queries, tt.wantQueries) {
				t.Errorf("queries = %q, want %q", fake.queries, tt.wantQueries)
			}
			headers := got[0].Headers
			for key, want := range map[string]string{
				"X-Mailer":    "go-mail v0.8.1 // https://github.com/wneessen/go-mail",
				"Return-Path": "<orders@orderbus.example>",
				"Subject":     "=?UTF-8?q?Your_order_0193a3c2-7d4e-7b61-9f1a-2c5d8e0f4a11_=E2=80=94_recei?= =?UTF-8?q?pt?=",
			} {
				if len(headers[key]) != 1 || headers[key][0] != want {
					t.Errorf("header %s = %q, want %q", key, headers[key], want)
				}
			}
			if r := got[0].Header("Received"); r == "" {
				t.Errorf("MailHog's Received header is missing: %v", headers)
			}
		})
	}
}

// Without the raw SMTP data MailHog's own header split is all there is:
// bodies still decode, but a folded Message-ID is lost and MailHog's own id
// stands in for it (why Raw is preferred).
func TestMailHogMessagesWithoutRaw(t *testing.T) {
	t.Parallel()
	_, srv := newFakeMailHog(t, func(items []map[string]any) {
		for _, it := range items {
			it["Raw"] = nil
		}
	})
	got, err := NewMailHog(srv.URL, nil).Messages(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := wantRecorded()
	if len(got) != len(want) {
		t.Fatalf("got %d messages", len(got))
	}
	for i := range want {
		if got[i].Text != want[i].Text || got[i].HTML != want[i].HTML {
			t.Errorf("message %d bodies = %q, %q; want %q, %q", i, got[i].Text, got[i].HTML, want[i].Text, want[i].HTML)
		}
	}
	if got[2].MessageID != want[2].MessageID || got[0].MessageID != want[0].ID {
		t.Errorf("message ids = %q, %q; want %q and MailHog's %q", got[2].MessageID, got[0].MessageID, want[2].MessageID, want[0].ID)
	}
}

func TestMailHogDeleteAll(t *testing.T) {
	t.Parallel()
	_, srv := newFakeMailHog(t, nil)
	c := NewMailHog(srv.URL, srv.Client())
	if err := c.DeleteAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := c.Messages(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("after DeleteAll: %d messages, err %v", len(got), err)
	}
	if c.Name() != "mailhog" {
		t.Errorf("Name = %q", c.Name())
	}
}
