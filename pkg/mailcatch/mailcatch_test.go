package mailcatch

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	mp := startMailpit(t)
	_, mailhog := newFakeMailHog(t, nil)
	other := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(other.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(notJSON.Close)
	closed := "http://" + refusingAddr(t)

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

// refusingAddr returns a loopback address that refuses connections for
// the test's duration: a TCP socket bound to it that never listens. The
// port stays this test's, so no parallel test's listener can take it, as
// it could a port closed after use.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
