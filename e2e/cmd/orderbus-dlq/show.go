package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// show prints one dead letter with its headers and body.
func show(args []string) (action, error) {
	fs := newFlags("show")
	asJSON := fs.Bool("json", false, "")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, usageError("show: want one DLQ sequence, got %d arguments", len(rest))
	}
	seqs, err := parseSeqs("show", rest)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, q *dlq.DLQ, stdout io.Writer) error {
		m, err := q.Show(ctx, seqs[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, messageJSON(m))
		}
		writeMessage(stdout, m, time.Now())
		return nil
	}, nil
}

// messageView is show -json's document: the body as JSON when it is JSON,
// else as a string.
type messageView struct {
	dlq.Entry
	Header map[string][]string `json:"header"`
	Data   json.RawMessage     `json:"data"`
}

func messageJSON(m *dlq.Message) messageView {
	v := messageView{Entry: m.Entry, Header: m.Header, Data: m.Data}
	if !json.Valid(m.Data) {
		v.Data, _ = json.Marshal(string(m.Data)) // a string always encodes
	}
	return v
}

func writeMessage(w io.Writer, m *dlq.Message, now time.Time) {
	tw := table(w)
	field := func(k, v string) { row(tw, k+":", v) }
	field("seq", strconv.FormatUint(m.Seq, 10))
	field("stored", fmt.Sprintf("%s (%s ago)", m.Time.UTC().Format(time.RFC3339), age(now.Sub(m.Time))))
	field("consumer", m.Consumer)
	field("reason", m.Reason)
	field("error", m.Error)
	field("type", m.Type)
	field("id", m.ID)
	field("order", m.OrderID)
	field("subject", m.Subject)
	field("stream", fmt.Sprintf("%s seq %d", m.Stream, m.StreamSeq))
	field("deliveries", strconv.FormatUint(m.Deliveries, 10))
	tw.Flush()
	fmt.Fprintln(w, "headers:")
	tw = table(w)
	for _, k := range slices.Sorted(maps.Keys(m.Header)) {
		for _, v := range m.Header[k] {
			row(tw, "  "+k+":", v)
		}
	}
	tw.Flush()
	if m.Truncated {
		fmt.Fprintf(w, "body: not stored in the DLQ (too large with the error headers); a redrive reads it from %s seq %d\n", m.Stream, m.StreamSeq)
		return
	}
	fmt.Fprintln(w, "body:")
	var pretty bytes.Buffer
	if json.Indent(&pretty, m.Data, "  ", "  ") == nil {
		fmt.Fprintf(w, "  %s\n", pretty.Bytes())
		return
	}
	fmt.Fprintf(w, "  %q\n", m.Data)
}
