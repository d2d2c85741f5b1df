package stack_test

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/stack"
)

// TestMailpitServesItsWebUI checks that the Mailpit Tool builds, when npm
// is installed, serves its web UI: the page and the bundle npm built. It
// fails without npm: make run's Mailpit would then have no web UI.
func TestMailpitServesItsWebUI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("npm is missing: make run would serve Mailpit without its web UI")
	}
	mp, err := stack.StartMailpit(t.Context(), stack.MailpitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mp.Close(context.Background()) })
	if !stack.MailpitHasUI() {
		t.Fatal("MailpitHasUI = false after a build with npm on $PATH")
	}
	for _, tc := range []struct{ path, want string }{
		{"/", `id="app"`},
		{"/dist/app.js", "mailpit"},
	} {
		resp, err := http.Get(mp.APIURL() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s: %s, want 200 with %q (%d bytes)", tc.path, resp.Status, tc.want, len(b))
		}
	}
}
