package dlq_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsjs"
)

type redriveDone struct {
	results []dlq.RedriveResult
	err     error
}

// redriveAsync runs Redrive in the background, for a test that plays the
// durable meanwhile.
func redriveAsync(t *testing.T, q *dlq.DLQ, seqs []uint64, wait time.Duration) <-chan redriveDone {
	done := make(chan redriveDone, 1)
	ctx := withTimeout(t, time.Minute)
	go func() {
		r, err := q.Redrive(ctx, seqs, dlq.RedriveOptions{Wait: wait, PollInterval: 10 * time.Millisecond})
		done <- redriveDone{r, err}
	}()
	return done
}

func TestRedriveRepublishesAndDeletesOnlyAfterTheAck(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	o := mustPlace(t, js, "c-1", "order-1")
	email := mustDurable(t, js, "email")
	seq := mustDeadLetter(t, js, "email", o, "permanent", "smtp: 550")
	other := mustDeadLetter(t, js, "sms", o, "permanent", "provider: 400")

	done := redriveAsync(t, q, []uint64{seq}, time.Minute)
	msg := mustNext(t, email)
	meta, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject() != o.msg.Subject || string(msg.Data()) != string(o.msg.Data) {
		t.Errorf("republished %s %s, want %s %s", msg.Subject(), msg.Data(), o.msg.Subject, o.msg.Data)
	}
	h := msg.Headers()
	for k, want := range map[string]string{
		natsjs.HeaderRedriveFor: "email",
		natsjs.HeaderRedriveOf:  strconv.FormatUint(seq, 10),
		events.HeaderMsgID:      "redrive:email:" + strconv.FormatUint(seq, 10),
		events.HeaderID:         o.event.ID,
		events.HeaderType:       events.TypeOrderPlaced,
		events.HeaderSource:     o.event.Source,
		events.HeaderTime:       o.msg.Header.Get(events.HeaderTime),
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{natsjs.HeaderError, natsjs.HeaderReason, natsjs.HeaderConsumer, natsjs.HeaderStream, natsjs.HeaderStreamSeq, natsjs.HeaderDeliveries} {
		if v := h.Values(k); len(v) > 0 {
			t.Errorf("republished message carries %s %v", k, v)
		}
	}

	// Delivered but not acknowledged: the dead letter stays.
	select {
	case d := <-done:
		t.Fatalf("redrive returned before the ack: %+v, %v", d.results, d.err)
	default:
	}
	if _, err := q.Show(t.Context(), seq); err != nil {
		t.Fatalf("dead letter gone before the ack: %v", err)
	}
	if err := msg.DoubleAck(t.Context()); err != nil {
		t.Fatal(err)
	}

	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	r := d.results[0]
	if !r.Acked || r.Republished != meta.Sequence.Stream || r.Duplicate || r.DeadLetteredAgain != 0 || r.Entry.Seq != seq {
		t.Errorf("result %+v, want acked, republished as ORDERS seq %d", r, meta.Sequence.Stream)
	}
	if _, err := q.Show(t.Context(), seq); !errors.Is(err, dlq.ErrNotFound) {
		t.Errorf("dead letter still there after the ack: %v", err)
	}
	if _, err := q.Show(t.Context(), other); err != nil {
		t.Errorf("the sms dead letter of the same event is gone: %v", err)
	}
}

func TestRedriveTimeoutLeavesTheDeadLetter(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	o := mustPlace(t, js, "c-1", "order-1")
	email := mustDurable(t, js, "email")
	seq := mustDeadLetter(t, js, "email", o, "permanent", "smtp: 550")

	results, err := q.Redrive(withTimeout(t, time.Minute), []uint64{seq}, dlq.RedriveOptions{Wait: 300 * time.Millisecond})
	if !errors.Is(err, dlq.ErrNotAcked) || !errors.Is(results[0].Err, dlq.ErrNotAcked) || results[0].Acked {
		t.Fatalf("redrive nobody acks: %+v, %v; want ErrNotAcked", results, err)
	}
	if _, err := q.Show(t.Context(), seq); err != nil {
		t.Fatalf("dead letter gone after a timeout: %v", err)
	}

	// A second redrive inside the duplicate window stores nothing new and
	// completes once the durable acks the first one.
	done := redriveAsync(t, q, []uint64{seq}, time.Minute)
	msg := mustNext(t, email)
	if err := msg.DoubleAck(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	if r := d.results[0]; !r.Acked || !r.Duplicate || r.Republished != results[0].Republished {
		t.Errorf("second redrive %+v, want acked duplicate of ORDERS seq %d", r, results[0].Republished)
	}
	if _, err := email.Next(jetstream.FetchMaxWait(200 * time.Millisecond)); err == nil {
		t.Error("the durable received the redrive twice")
	}
}

func TestRedriveDeadLetteredAgain(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	o := mustPlace(t, js, "c-1", "order-1")
	email := mustDurable(t, js, "email")
	seq := mustDeadLetter(t, js, "email", o, "permanent", "smtp: 550")

	done := redriveAsync(t, q, []uint64{seq}, time.Minute)
	msg := mustNext(t, email)
	meta, err := msg.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	// What the runner does on a second permanent failure: copy, then Term.
	again := mustDeadLetter(t, js, "email", original{msg: o.msg, event: o.event, seq: meta.Sequence.Stream}, "permanent", "smtp: 550 still")
	if err := msg.Term(); err != nil {
		t.Fatal(err)
	}
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	if r := d.results[0]; !r.Acked || r.DeadLetteredAgain != again {
		t.Errorf("result %+v, want acked and dead-lettered again as DLQ seq %d", r, again)
	}
	if got := seqs(mustList(t, q, "")); len(got) != 1 || got[0] != again {
		t.Errorf("DLQ holds %v, want only the new dead letter %d", got, again)
	}
}

func TestRedriveRefusals(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	o := mustPlace(t, js, "c-1", "order-1")
	orphan := mustDeadLetter(t, js, "gone", o, "permanent", "whatever")
	info := func() uint64 {
		s, err := js.Stream(t.Context(), events.StreamOrders)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Msgs
	}
	before := info()
	results, err := q.Redrive(withTimeout(t, time.Minute), []uint64{orphan, 999}, dlq.RedriveOptions{Wait: time.Second})
	if err == nil {
		t.Fatal("redrive without a durable succeeded")
	}
	if !errors.Is(results[0].Err, dlq.ErrNoConsumer) || !errors.Is(results[1].Err, dlq.ErrNotFound) {
		t.Errorf("errors %v and %v, want ErrNoConsumer and ErrNotFound", results[0].Err, results[1].Err)
	}
	if after := info(); after != before {
		t.Errorf("ORDERS went from %d to %d messages: a redrive for no durable was published", before, after)
	}
	if _, err := q.Show(t.Context(), orphan); err != nil {
		t.Errorf("dead letter of a missing durable gone: %v", err)
	}
}

func TestRedriveMatching(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	var want []uint64
	for i := range 3 {
		o := mustPlace(t, js, "c-"+strconv.Itoa(i), "order-"+strconv.Itoa(i))
		want = append(want, mustDeadLetter(t, js, "email", o, "permanent", "smtp: 550"))
		mustDeadLetter(t, js, "sms", o, "permanent", "provider: 400")
	}
	email := mustDurable(t, js, "email")
	done := make(chan redriveDone, 1)
	go func() {
		r, err := q.RedriveMatching(withTimeout(t, time.Minute), dlq.MustParseFilter("consumer=email"), dlq.RedriveOptions{})
		done <- redriveDone{r, err}
	}()
	for range 3 {
		if err := mustNext(t, email).DoubleAck(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	d := <-done
	if d.err != nil {
		t.Fatal(d.err)
	}
	for i, r := range d.results {
		if !r.Acked || r.Entry.Seq != want[i] {
			t.Errorf("result %d: %+v, want DLQ seq %d acked", i, r, want[i])
		}
	}
	if left := mustList(t, q, ""); len(left) != 3 || left[0].Consumer != "sms" {
		t.Errorf("left %+v, want the 3 sms dead letters", left)
	}
}

func TestRedriveTruncated(t *testing.T) {
	t.Parallel()
	js, q := mustOpen(t)
	kept := mustPlace(t, js, "c-1", "order-1")
	gone := mustPlace(t, js, "c-2", "order-2")
	keptSeq := mustDeadLetterTruncated(t, js, "email", kept)
	goneSeq := mustDeadLetterTruncated(t, js, "email", gone)
	orders, err := js.Stream(t.Context(), events.StreamOrders)
	if err != nil {
		t.Fatal(err)
	}
	if err := orders.DeleteMsg(t.Context(), gone.seq); err != nil {
		t.Fatal(err)
	}
	if e := mustList(t, q, "")[0]; !e.Truncated || e.OrderID != "" {
		t.Errorf("truncated entry %+v: want Truncated and no order id (no body)", e)
	}
	email := mustDurable(t, js, "email")

	done := redriveAsync(t, q, []uint64{keptSeq, goneSeq}, time.Minute)
	msg := mustNext(t, email)
	if string(msg.Data()) != string(kept.msg.Data) {
		t.Errorf("redriven body %q, want the original's %q", msg.Data(), kept.msg.Data)
	}
	if err := msg.DoubleAck(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := <-done
	if !d.results[0].Acked || d.results[0].Err != nil {
		t.Errorf("truncated dead letter with its original: %+v", d.results[0])
	}
	if r := d.results[1]; !errors.Is(r.Err, dlq.ErrTruncated) || r.Republished != 0 {
		t.Errorf("truncated dead letter without its original: %+v, want ErrTruncated, nothing published", r)
	}
	if _, err := q.Show(t.Context(), goneSeq); err != nil {
		t.Errorf("the dead letter that could not be redriven is gone: %v", err)
	}
}
