package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/dlq"
	"github.com/orderbus/orderbus/pkg/web"
)

// redriveWait bounds how long one redrive waits for the durable to
// acknowledge the republished message.
const redriveWait = 10 * time.Second

// errRedriveOff is a redrive asked of a console without a redrive
// identity (CONSOLE_REDRIVE_NATS_USER unset).
var errRedriveOff = errors.New("redrive is off: CONSOLE_REDRIVE_NATS_USER and CONSOLE_REDRIVE_NATS_PASSWORD are not set")

// redriver runs the DLQ operations of pkg/dlq, opening the DLQ on first
// use (it may not exist when the console starts). A nil js turns redrive
// off.
type redriver struct {
	js jetstream.JetStream

	mu sync.Mutex
	d  *dlq.DLQ
}

func newRedriver(js jetstream.JetStream) *redriver { return &redriver{js: js} }

// redrive redrives the dead letter at DLQ sequence seq (dlq.Redrive).
func (r *redriver) redrive(ctx context.Context, seq uint64) (dlq.RedriveResult, error) {
	if r.js == nil {
		return dlq.RedriveResult{Entry: dlq.Entry{Seq: seq}}, errRedriveOff
	}
	r.mu.Lock()
	if r.d == nil {
		d, err := dlq.Open(ctx, r.js)
		if err != nil {
			r.mu.Unlock()
			return dlq.RedriveResult{}, err
		}
		r.d = d
	}
	d := r.d
	r.mu.Unlock()
	res, err := d.Redrive(ctx, []uint64{seq}, dlq.RedriveOptions{Wait: redriveWait})
	if len(res) == 0 {
		return dlq.RedriveResult{Entry: dlq.Entry{Seq: seq}, Err: err}, err
	}
	return res[0], err
}

// handleRedrive republishes one dead letter for the durable that gave up
// on it and waits for its acknowledgement: 200 with the result when the
// durable acknowledged it, 404 when there is no such dead letter, 409 when
// it was not redriven or not acknowledged in time (the result says why).
// The router lets only operators with the dlq:write role reach it
// (auth.Require: 401 without a valid token, 403 without the role).
func handleRedrive(logger *slog.Logger, rd *redriver) http.Handler {
	type response struct {
		Seq               uint64 `json:"seq"`
		Consumer          string `json:"consumer"`
		Republished       uint64 `json:"republished"`
		Duplicate         bool   `json:"duplicate"`
		Acked             bool   `json:"acked"`
		DeadLetteredAgain uint64 `json:"dead_lettered_again,omitempty"`
		Error             string `json:"error,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
		if err != nil || seq == 0 {
			web.WriteProblem(w, r, web.NewProblem(web.ProblemMalformed, http.StatusBadRequest,
				"seq must be a DLQ sequence number"))
			return
		}
		res, err := rd.redrive(r.Context(), seq)
		out := response{Seq: seq, Consumer: res.Entry.Consumer, Republished: res.Republished,
			Duplicate: res.Duplicate, Acked: res.Acked, DeadLetteredAgain: res.DeadLetteredAgain}
		switch {
		case errors.Is(err, errRedriveOff):
			web.WriteProblem(w, r, web.NewProblem(web.ProblemUnavailable, http.StatusServiceUnavailable, err.Error()))
			return
		case errors.Is(err, dlq.ErrNotFound) || errors.Is(err, dlq.ErrNoStream):
			web.WriteProblem(w, r, web.NewProblem(web.ProblemNotFound, http.StatusNotFound, "no dead letter at that sequence"))
			return
		case err != nil && res.Republished == 0 && !isDLQError(err):
			web.WriteError(w, r, logger, err)
			return
		case err != nil:
			out.Error = err.Error()
			logger.Info("redrive incomplete", "seq", seq, "error", err)
			web.Encode(w, http.StatusConflict, out)
			return
		}
		logger.Info("dead letter redriven", "seq", seq, "consumer", out.Consumer, "republished", out.Republished)
		web.Encode(w, http.StatusOK, out)
	})
}

// isDLQError reports whether err is one of pkg/dlq's outcomes, which the
// operator should read, rather than a failure of NATS.
func isDLQError(err error) bool {
	for _, e := range []error{dlq.ErrNotDeadLetter, dlq.ErrNoConsumer, dlq.ErrTruncated, dlq.ErrNotAcked} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
