package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// redrive republishes dead letters given by sequence, -consumer or
// -filter, and waits for their consumers' acknowledgements.
func redrive(args []string) (action, error) {
	fs := newFlags("redrive")
	var sel selection
	sel.register(fs)
	wait := fs.Duration("wait", 30*time.Second, "")
	asJSON := fs.Bool("json", false, "")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(rest) > 0 && sel.given():
		return nil, usageError("redrive: give sequences or -consumer/-filter, not both")
	case len(rest) == 0 && !sel.given():
		return nil, usageError("redrive: which dead letters? give DLQ sequences, -consumer NAME or -filter F")
	case *wait <= 0:
		return nil, usageError("redrive: -wait must be positive")
	}
	seqs, err := parseSeqs("redrive", rest)
	if err != nil {
		return nil, err
	}
	f, err := sel.parse("redrive")
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, q *dlq.DLQ, stdout io.Writer) error {
		opts := dlq.RedriveOptions{Wait: *wait}
		var results []dlq.RedriveResult
		var err error
		if len(seqs) > 0 {
			results, err = q.Redrive(ctx, seqs, opts)
		} else {
			results, err = q.RedriveMatching(ctx, f, opts)
		}
		if results == nil && err != nil {
			return err // the listing failed; nothing was redriven
		}
		if *asJSON {
			if werr := writeJSON(stdout, resultsJSON(results)); werr != nil {
				return werr
			}
		} else {
			writeResults(stdout, results, f)
		}
		return redriveExit(results)
	}, nil
}

// redriveExit returns the error behind the exit code of a redrive: 1 for
// any failure but a timeout, else 3 for a timeout, else 4 when a dead
// letter was dead-lettered again, else nil.
func redriveExit(results []dlq.RedriveResult) error {
	var failed, late, again int
	for _, r := range results {
		switch {
		case errors.Is(r.Err, dlq.ErrNotAcked):
			late++
		case r.Err != nil:
			failed++
		case r.DeadLetteredAgain != 0:
			again++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%s of %d not redriven", plural(failed), len(results))
	case late > 0:
		return &exitError{code: exitNotAcked, err: fmt.Errorf("%s of %d not acknowledged in time; they stay in the DLQ, and redriving them again is harmless", plural(late), len(results))}
	case again > 0:
		return &exitError{code: exitDeadLetter, err: fmt.Errorf("%s of %d dead-lettered again by their consumer", plural(again), len(results))}
	}
	return nil
}

// outcome says in a few words what became of r.
func outcome(r dlq.RedriveResult) string {
	switch {
	case r.Err != nil:
		return "FAILED: " + r.Err.Error()
	case r.DeadLetteredAgain != 0:
		return fmt.Sprintf("acknowledged, but dead-lettered again as seq %d", r.DeadLetteredAgain)
	case r.Duplicate:
		return "acknowledged (republished earlier); dead letter deleted"
	}
	return "acknowledged; dead letter deleted"
}

func writeResults(w io.Writer, results []dlq.RedriveResult, f dlq.Filter) {
	if len(results) == 0 {
		fmt.Fprintln(w, "no dead letters"+matching(f))
		return
	}
	tw := table(w)
	row(tw, "SEQ", "CONSUMER", "SUBJECT", "REPUBLISHED", "RESULT")
	for _, r := range results {
		republished := ""
		if r.Republished != 0 {
			republished = fmt.Sprintf("%s seq %d", r.Entry.Stream, r.Republished)
		}
		row(tw, strconv.FormatUint(r.Entry.Seq, 10), r.Entry.Consumer, r.Entry.Subject, republished, outcome(r))
	}
	tw.Flush()
}

// resultView is one redrive -json result.
type resultView struct {
	Seq               uint64 `json:"seq"`
	Consumer          string `json:"consumer,omitempty"`
	Subject           string `json:"subject,omitempty"`
	Stream            string `json:"stream,omitempty"`
	Republished       uint64 `json:"republished_seq,omitempty"`
	Duplicate         bool   `json:"duplicate,omitempty"`
	Acked             bool   `json:"acked"`
	DeadLetteredAgain uint64 `json:"dead_lettered_again_seq,omitempty"`
	Error             string `json:"error,omitempty"`
}

func resultsJSON(results []dlq.RedriveResult) []resultView {
	out := make([]resultView, len(results))
	for i, r := range results {
		out[i] = resultView{
			Seq: r.Entry.Seq, Consumer: r.Entry.Consumer, Subject: r.Entry.Subject, Stream: r.Entry.Stream,
			Republished: r.Republished, Duplicate: r.Duplicate, Acked: r.Acked, DeadLetteredAgain: r.DeadLetteredAgain,
		}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	return out
}
