package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
	"github.com/orderbus/orderbus/pkg/natsjs"
	"github.com/orderbus/orderbus/pkg/natstest"
)

// system is a nats-server with the orderbus streams and two dead letters
// of one order: email's (permanent) and sms's (malformed).
type system struct {
	url, reader       string // admin and read-only URLs
	js                jetstream.JetStream
	emailSeq, smsSeq  uint64
	orderID, customer string
}

func newSystem(t *testing.T) system {
	t.Helper()
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	s := system{url: natstest.URL(srv), reader: srv.UserURL(natsauth.UserReader), js: js, orderID: "0190a1b2-order", customer: "c-42"}
	e, err := events.New("orderbus/order", events.TypeOrderPlaced, s.orderID, events.OrderPlaced{
		OrderID:  s.orderID,
		Customer: events.Customer{ID: s.customer, Name: "Grace Hopper", Email: "grace@example.com", Phone: "+15550001111"},
		Items:    []events.Item{{SKU: "SKU-1", Quantity: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: events.OrderPlacedSubject(s.customer), Header: e.Header(), Data: e.Data}
	ack, err := js.PublishMsg(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	s.emailSeq = deadLetter(t, js, "email", msg, ack.Sequence, "permanent", "smtp: 550 5.1.1 mailbox unavailable")
	s.smsSeq = deadLetter(t, js, "sms", msg, ack.Sequence, "malformed", "decode\tpayload:\nunexpected EOF")
	return s
}

// deadLetter stores msg's DLQ copy as natsjs's runner does (pkg/natsjs/dlq.go).
func deadLetter(t *testing.T, js jetstream.JetStream, durable string, msg *nats.Msg, seq uint64, reason, cause string) uint64 {
	t.Helper()
	h := nats.Header{}
	for k, v := range msg.Header {
		if !strings.HasPrefix(strings.ToLower(k), "nats-") {
			h[k] = v
		}
	}
	h.Set(natsjs.HeaderError, cause)
	h.Set(natsjs.HeaderReason, reason)
	h.Set(natsjs.HeaderStream, events.StreamOrders)
	h.Set(natsjs.HeaderConsumer, durable)
	h.Set(natsjs.HeaderStreamSeq, strconv.FormatUint(seq, 10))
	h.Set(natsjs.HeaderDeliveries, "3")
	ack, err := js.PublishMsg(t.Context(), &nats.Msg{Subject: events.DLQSubject(durable, msg.Subject), Header: h, Data: msg.Data},
		jetstream.WithMsgID(fmt.Sprintf("dlq:%s:%s:%d", durable, events.StreamOrders, seq)))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// durable creates a durable on ORDERS for orders.placed.> starting with
// new messages, as the services' consumers do.
func (s system) durable(t *testing.T, name string) jetstream.Consumer {
	t.Helper()
	c, err := s.js.CreateOrUpdateConsumer(t.Context(), events.StreamOrders, jetstream.ConsumerConfig{
		Durable: name, FilterSubject: events.FilterOrderPlaced, DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	code           int
	stdout, stderr string
}

// runDLQ runs the command with NATS_URL set to url.
func runDLQ(t *testing.T, url string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "NATS_URL" {
			return url
		}
		return ""
	}
	code := run(ctx, append([]string{"orderbus-dlq"}, args...), getenv, &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	t.Logf("orderbus-dlq %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	return r
}

func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d", r.code, code)
	}
	return r
}

func TestList(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	// As the read-only identity: listing needs no more.
	out := runDLQ(t, s.reader, "list").want(t, exitOK).stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a header, 2 rows and a count:\n%s", len(lines), out)
	}
	for _, col := range []string{"SEQ", "AGE", "CONSUMER", "REASON", "TYPE", "ORDER", "SUBJECT", "ERROR"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	for _, want := range []string{strconv.FormatUint(s.emailSeq, 10), "email", "permanent", events.TypeOrderPlaced, s.orderID, "orders.placed.c-42", "550 5.1.1"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[2], "decode payload: unexpected EOF") {
		t.Errorf("row %q: control characters in the error should show as spaces", lines[2])
	}
	// The columns line up: each row's SUBJECT starts where the header's does.
	col := strings.Index(lines[0], "SUBJECT")
	for _, l := range lines[1:3] {
		if !strings.HasPrefix(l[col:], "orders.placed.c-42") {
			t.Errorf("row %q: SUBJECT not at column %d", l, col)
		}
	}
	if lines[3] != "2 dead letters" {
		t.Errorf("last line %q", lines[3])
	}
	for _, pd := range []string{"Grace", "grace@example.com", "+15550001111"} {
		if strings.Contains(out, pd) {
			t.Errorf("listing shows personal data %q", pd)
		}
	}

	out = runDLQ(t, s.url, "list", "-filter", "consumer=sms", "-json").want(t, exitOK).stdout
	var entries []struct {
		Seq      uint64 `json:"seq"`
		Consumer string `json:"consumer"`
		OrderID  string `json:"order_id"`
	}
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Seq != s.smsSeq || entries[0].Consumer != "sms" || entries[0].OrderID != s.orderID {
		t.Errorf("list -json: %+v", entries)
	}

	if out := runDLQ(t, s.url, "list", "-filter", "consumer=nobody").want(t, exitOK).stdout; out != "no dead letters matching consumer=nobody\n" {
		t.Errorf("empty listing: %q", out)
	}
	if out := runDLQ(t, s.url, "list", "-json", "-filter", "order=none").want(t, exitOK).stdout; strings.TrimSpace(out) != "[]" {
		t.Errorf("empty listing in JSON: %q", out)
	}
}

func TestShow(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	out := runDLQ(t, s.reader, "show", strconv.FormatUint(s.emailSeq, 10)).want(t, exitOK).stdout
	for _, want := range []string{"consumer:", "email", "smtp: 550 5.1.1 mailbox unavailable", "ce-type:", events.TypeOrderPlaced,
		natsjs.HeaderStreamSeq + ":", "body:", `"order_id": "0190a1b2-order"`, "grace@example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q", want)
		}
	}
	out = runDLQ(t, s.url, "show", "-json", strconv.FormatUint(s.emailSeq, 10)).want(t, exitOK).stdout
	var m struct {
		Seq    uint64              `json:"seq"`
		Header map[string][]string `json:"header"`
		Data   struct {
			OrderID string `json:"order_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m.Seq != s.emailSeq || m.Data.OrderID != s.orderID || m.Header[natsjs.HeaderConsumer][0] != "email" {
		t.Errorf("show -json: %+v", m)
	}
	r := runDLQ(t, s.url, "show", "999").want(t, exitFailed)
	if !strings.Contains(r.stderr, "not found") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestRedrive(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	email := s.durable(t, "email")
	acked := make(chan error, 1)
	go func() {
		msg, err := email.Next(jetstream.FetchMaxWait(30 * time.Second))
		if err == nil {
			if got := msg.Headers().Get(natsjs.HeaderRedriveFor); got != "email" {
				err = fmt.Errorf("redriven with %s %q", natsjs.HeaderRedriveFor, got)
			}
			if aerr := msg.DoubleAck(context.Background()); err == nil {
				err = aerr
			}
		}
		acked <- err
	}()
	out := runDLQ(t, s.url, "redrive", "-consumer", "email", "-wait", "30s").want(t, exitOK).stdout
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "acknowledged; dead letter deleted") || !strings.Contains(out, "ORDERS seq 2") {
		t.Errorf("redrive output:\n%s", out)
	}
	if out := runDLQ(t, s.url, "list", "-json").want(t, exitOK).stdout; strings.Count(out, `"seq"`) != 1 || !strings.Contains(out, `"consumer": "sms"`) {
		t.Errorf("after the redrive the DLQ holds:\n%s", out)
	}
}

func TestRedriveNotAcked(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	s.durable(t, "email") // nobody fetches from it
	seq := strconv.FormatUint(s.emailSeq, 10)
	r := runDLQ(t, s.url, "redrive", seq, "-wait", "300ms").want(t, exitNotAcked)
	if !strings.Contains(r.stderr, "not acknowledged in time") || !strings.Contains(r.stdout, "FAILED") {
		t.Errorf("redrive output:\n%s\n%s", r.stdout, r.stderr)
	}
	runDLQ(t, s.url, "show", seq).want(t, exitOK)

	// sms has no durable on this server: nothing is republished.
	r = runDLQ(t, s.url, "redrive", "-json", strconv.FormatUint(s.smsSeq, 10)).want(t, exitFailed)
	if !strings.Contains(r.stdout, "durable consumer not found") {
		t.Errorf("redrive -json output:\n%s", r.stdout)
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	r := runDLQ(t, s.url, "purge", "-consumer", "email").want(t, exitUsage)
	if !strings.Contains(r.stdout, "would delete 1 dead letter matching consumer=email; nothing deleted") {
		t.Errorf("purge without -yes: %q", r.stdout)
	}
	runDLQ(t, s.url, "show", strconv.FormatUint(s.emailSeq, 10)).want(t, exitOK)

	r = runDLQ(t, s.url, "purge", "-all").want(t, exitUsage)
	if !strings.Contains(r.stdout, "would delete 2 dead letters") {
		t.Errorf("purge -all without -yes: %q", r.stdout)
	}
	if out := runDLQ(t, s.url, "purge", "-filter", "reason=permanent", "-yes").want(t, exitOK).stdout; out != "deleted 1 dead letter matching reason=permanent\n" {
		t.Errorf("purge -yes: %q", out)
	}
	runDLQ(t, s.url, "show", strconv.FormatUint(s.emailSeq, 10)).want(t, exitFailed)
	if out := runDLQ(t, s.url, "purge", "-all", "-yes").want(t, exitOK).stdout; out != "deleted 1 dead letter\n" {
		t.Errorf("purge -all -yes: %q", out)
	}
}

// TestReaderCannotPurgeOrRedrive checks that the read-only identity lists
// but is refused purging and redriving: the dead letters stay.
func TestReaderCannotPurgeOrRedrive(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	if _, err := s.js.CreateConsumer(t.Context(), events.StreamOrders, jetstream.ConsumerConfig{
		Durable: "email", FilterSubject: events.FilterOrderPlaced, AckPolicy: jetstream.AckExplicitPolicy,
	}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"purge", "-all", "-yes"}, {"redrive", strconv.FormatUint(s.emailSeq, 10), "-wait", "1s"}} {
		if r := runDLQ(t, s.reader, args...).want(t, exitFailed); !strings.Contains(r.stderr, "ermissions violation") {
			t.Errorf("%s as reader: stderr %q, want a permissions violation", args[0], r.stderr)
		}
	}
	out := runDLQ(t, s.url, "list").want(t, exitOK).stdout
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 4 {
		t.Errorf("after the reader's attempts the DLQ lists %d lines, want both dead letters still there:\n%s", len(lines), out)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	// No server: every case must fail before connecting.
	const unreachable = "nats://127.0.0.1:1"
	for _, tc := range []struct {
		args    []string
		code    int
		mention string
	}{
		{nil, exitUsage, "no command"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"list", "-filter", "customer=x"}, exitUsage, "unknown key"},
		{[]string{"list", "extra"}, exitUsage, "unexpected argument"},
		{[]string{"show"}, exitUsage, "want one DLQ sequence"},
		{[]string{"show", "abc"}, exitUsage, "not a DLQ sequence"},
		{[]string{"redrive"}, exitUsage, "which dead letters"},
		{[]string{"redrive", "1", "-consumer", "email"}, exitUsage, "not both"},
		{[]string{"redrive", "-consumer", "email", "-wait", "0s"}, exitUsage, "-wait must be positive"},
		{[]string{"redrive", "-consumer", "a", "-filter", "consumer=b"}, exitUsage, "contradicts"},
		{[]string{"purge"}, exitUsage, "which dead letters"},
		{[]string{"purge", "-all", "-consumer", "email"}, exitUsage, "-all purges everything"},
		{[]string{"purge", "-filter", " "}, exitUsage, "selects every dead letter"},
		{[]string{"purge", "-bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"list"}, exitFailed, "connect nats"},
		{[]string{"-nats", "nats://u:secret@127.0.0.1:1", "list"}, exitFailed, "redacted"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runDLQ(t, unreachable, tc.args...).want(t, tc.code)
			if !strings.Contains(r.stderr, tc.mention) {
				t.Errorf("stderr %q does not mention %q", r.stderr, tc.mention)
			}
			if strings.Contains(r.stderr, "secret") {
				t.Errorf("stderr shows the password: %q", r.stderr)
			}
		})
	}
	r := runDLQ(t, unreachable, "-help").want(t, exitOK)
	for _, want := range []string{"exit codes:", "redrive", "purge", "consumer=NAME", "make dlq"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("-help lacks %q", want)
		}
	}
}
