package stack_test

import (
	"context"
	"fmt"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/orderbus/orderbus/pkg/stack"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg, err := stack.StartPostgres(ctx, stack.PostgresConfig{Fast: true,
		Settings: map[string]string{"work_mem": "7MB", "fsync": "on"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })

	if err := pg.CreateDatabase(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateDatabase(ctx, "shop"); err == nil {
		t.Fatal("creating an existing database: got no error")
	}
	conn, err := pgx.Connect(ctx, pg.URL("shop"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if db != "shop" {
		t.Fatalf("current_database() = %q, want shop", db)
	}
	// Settings apply, but cannot override Fast's (or the durable) ones.
	for name, want := range map[string]string{"work_mem": "7MB", "fsync": "off"} {
		var got string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestNATSRestartKeepsStream(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, err := stack.StartNATS(ctx, stack.NATSConfig{SyncAlways: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })

	publish := func() {
		t.Helper()
		nc, err := nats.Connect(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Request("$JS.API.STREAM.CREATE.T", []byte(`{"name":"T","subjects":["t.>"],"storage":"file"}`), 2*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Request("t.x", []byte("hello"), 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	publish()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(srv.URL(), nats.Timeout(200*time.Millisecond)); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp, err := nc.Request("$JS.API.STREAM.INFO.T", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Data), `"messages":1`) {
		t.Fatalf("stream after restart: %s; want 1 message", resp.Data)
	}
}

func TestMailpitKeepsMailAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mp, err := stack.StartMailpit(ctx, stack.MailpitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mp.Close(context.Background()) })

	addr := fmt.Sprintf("%s:%d", mp.SMTPHost(), mp.SMTPPort())
	msg := "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
	if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := mp.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com"}, []byte(msg)); err == nil {
		t.Fatal("sent mail to a stopped Mailpit")
	}
	if err := mp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := httpGet(ctx, mp.APIURL()+"/api/v1/messages")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp, `"total":1`) {
		t.Fatalf("messages after restart: %s; want total 1", resp)
	}
}

func TestProcessTailAndStop(t *testing.T) {
	t.Parallel()
	p, err := stack.StartProcess(t.Context(), stack.ProcessConfig{
		Name: "sh", Path: "/bin/sh", Args: []string{"-c", "echo one; echo two; exec sleep 60"},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Tail(10) != "one\ntwo" {
		if time.Now().After(deadline) {
			t.Fatalf("tail = %q, want one, two", p.Tail(10))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}
}
