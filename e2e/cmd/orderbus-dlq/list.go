package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// errorWidth is how much of the error text a listing shows; show has it all.
const errorWidth = 60

// list prints the dead letters matching -filter as a table or JSON.
func list(args []string) (action, error) {
	fs := newFlags("list")
	filter := fs.String("filter", "", "")
	asJSON := fs.Bool("json", false, "")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usageError("list: unexpected argument %q (a filter goes in -filter)", rest[0])
	}
	f, err := dlq.ParseFilter(*filter)
	if err != nil {
		return nil, usageError("list: %v", err)
	}
	return func(ctx context.Context, q *dlq.DLQ, stdout io.Writer) error {
		entries, err := q.List(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			if entries == nil {
				entries = []dlq.Entry{}
			}
			return writeJSON(stdout, entries)
		}
		if len(entries) == 0 {
			fmt.Fprintln(stdout, "no dead letters"+matching(f))
			return nil
		}
		writeEntries(stdout, entries, time.Now())
		fmt.Fprintln(stdout, plural(len(entries))+matching(f))
		return nil
	}, nil
}

// writeEntries writes the listing table.
func writeEntries(w io.Writer, entries []dlq.Entry, now time.Time) {
	tw := table(w)
	row(tw, "SEQ", "AGE", "CONSUMER", "REASON", "TYPE", "ORDER", "SUBJECT", "DELIVERIES", "ERROR")
	for _, e := range entries {
		row(tw, strconv.FormatUint(e.Seq, 10), age(now.Sub(e.Time)), e.Consumer, e.Reason, e.Type, e.OrderID,
			e.Subject, strconv.FormatUint(e.Deliveries, 10), cut(e.Error, errorWidth))
	}
	tw.Flush()
}

func matching(f dlq.Filter) string {
	if f.IsZero() {
		return ""
	}
	return " matching " + f.String()
}
