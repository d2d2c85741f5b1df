package natsjs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
	"github.com/orderbus/orderbus/pkg/stack"
)

// TestConnectWhileServerDown checks that Connect returns at once when the
// server is down, and that the connection comes up when the server does.
func TestConnectWhileServerDown(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	if err := srv.Stop(ctxT(t)); err != nil {
		t.Fatalf("stop nats: %v", err)
	}
	nc, err := natsjs.Connect(ctxT(t), natstest.URL(srv), "down-at-start", natstest.Logger(t))
	if err != nil {
		t.Fatalf("Connect with the server down: %v", err)
	}
	t.Cleanup(nc.Close)
	if nc.IsConnected() {
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(ctxT(t)); err != nil {
		t.Fatalf("start nats: %v", err)
	}
	waitFor(t, 15*time.Second, "connection", func() (bool, string) {
		return nc.IsConnected(), nc.Status().String()
	})
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	// EnsureStreams is idempotent: running it twice leaves the streams as configured.
	for i := range 2 {
		if err := natsjs.EnsureStreams(ctxT(t), js, events.Streams(events.DefaultRetention())...); err != nil {
			t.Fatalf("EnsureStreams #%d: %v", i+1, err)
		}
	}
	for _, want := range events.Streams(events.DefaultRetention()) {
		s, err := js.Stream(ctxT(t), want.Name)
		if err != nil {
			t.Fatalf("stream %s: %v", want.Name, err)
		}
		got := s.CachedInfo().Config
		if fmt.Sprint(got.Subjects) != fmt.Sprint(want.Subjects) || got.Duplicates != want.Duplicates || got.Storage != want.Storage {
			t.Errorf("stream %s = subjects %v dup %v storage %v, want %v %v %v", want.Name,
				got.Subjects, got.Duplicates, got.Storage, want.Subjects, want.Duplicates, want.Storage)
		}
	}
}

func TestConnectRejects(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		url  string
	}{
		{"canceled context", canceled, "nats://127.0.0.1:4222"},
		{"invalid url", context.Background(), "nats://user:secret@[::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nc, err := natsjs.Connect(tt.ctx, tt.url, "x", nil)
			if err == nil {
				nc.Close()
				t.Fatal("Connect returned nil error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

// TestDial checks that Dial returns a connection and a JetStream handle
// that works once the server is up, even when it is not yet, and that it
// refuses an invalid url without quoting its password.
func TestDial(t *testing.T) {
	t.Parallel()
	srv := natstest.Start(t)
	port, release, err := stack.RefusingPort() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	tests := []struct {
		name          string
		url           string
		wantConnected bool
		wantErr       bool
	}{
		{name: "server up", url: natstest.URL(srv), wantConnected: true},
		{name: "server down", url: fmt.Sprintf("nats://127.0.0.1:%d", port)},
		{name: "invalid url", url: "nats://user:secret@[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			nc, js, err := natsjs.Dial(ctxT(t), tt.url, "dial-test", natstest.Logger(t))
			if tt.wantErr {
				if err == nil {
					nc.Close()
					t.Fatal("Dial returned nil error")
				}
				if nc != nil || js != nil {
					t.Error("Dial returned a connection with its error")
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q leaks the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			t.Cleanup(nc.Close)
			if nc.Opts.Name != "dial-test" {
				t.Errorf("connection name = %q, want dial-test", nc.Opts.Name)
			}
			if nc.IsConnected() != tt.wantConnected {
				t.Fatalf("connected = %v, want %v", nc.IsConnected(), tt.wantConnected)
			}
			if !tt.wantConnected {
				return
			}
			if _, err := js.AccountInfo(ctxT(t)); err != nil {
				t.Errorf("JetStream handle does not answer: %v", err)
			}
		})
	}
}
