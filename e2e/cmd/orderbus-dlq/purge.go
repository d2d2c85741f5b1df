package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// purge deletes the dead letters -filter, -consumer or -all select, once
// confirmed with -yes; without it, it says how many it would delete.
func purge(args []string) (action, error) {
	fs := newFlags("purge")
	var sel selection
	sel.register(fs)
	all := fs.Bool("all", false, "")
	yes := fs.Bool("yes", false, "")
	rest, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(rest) > 0:
		return nil, usageError("purge: unexpected argument %q (select with -filter, -consumer or -all)", rest[0])
	case *all && sel.given():
		return nil, usageError("purge: -all purges everything; drop -filter and -consumer, or -all")
	case !*all && !sel.given():
		return nil, usageError("purge: which dead letters? give -filter F, -consumer NAME, or -all for every one")
	}
	f, err := sel.parse("purge")
	if err != nil {
		return nil, err
	}
	if !*all && f.IsZero() {
		return nil, usageError("purge: the filter selects every dead letter; say -all if that is meant")
	}
	return func(ctx context.Context, q *dlq.DLQ, stdout io.Writer) error {
		if !*yes {
			entries, err := q.List(ctx, f)
			if err != nil {
				return err
			}
			if len(entries) > 0 {
				writeEntries(stdout, entries, time.Now())
			}
			fmt.Fprintf(stdout, "would delete %s%s; nothing deleted: add -yes to delete them\n", plural(len(entries)), matching(f))
			return &exitError{code: exitUsage}
		}
		deleted, err := q.Purge(ctx, f)
		fmt.Fprintf(stdout, "deleted %s%s\n", plural(len(deleted)), matching(f))
		return err
	}, nil
}
