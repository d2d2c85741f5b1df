package mailcatch

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/stack"
)

func TestNew(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	_, mailhog := newFakeMailHog(t, nil)
	other := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(other.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(notJSON.Close)
	port, release, err := stack.RefusingPort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	closed := fmt.Sprintf("http://127.0.0.1:%d", port)

	tests := []struct {
		name     string
		url      string
		wantName string
		wantErr  []string
	}{
		{name: "mailpit", url: mp.APIURL(), wantName: "mailpit"},
		{name: "mailpit trailing slash", url: mp.APIURL() + "/", wantName: "mailpit"},
		{name: "mailhog", url: mailhog.URL, wantName: "mailhog"},
		{name: "neither", url: other.URL, wantErr: []string{"not Mailpit", "status 404", "nor MailHog"}},
		{name: "not JSON", url: notJSON.URL, wantErr: []string{"decode answer"}},
		{name: "nothing listening", url: closed, wantErr: []string{"connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(t.Context(), tt.url, nil)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("New = %s client, want an error", c.Name())
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name() != tt.wantName {
				t.Fatalf("New = %s client, want %s", c.Name(), tt.wantName)
			}
			if _, err := c.Messages(t.Context()); err != nil {
				t.Errorf("Messages through the probed client: %v", err)
			}
		})
	}
}
