package main

import (
	"errors"
	"flag"
	"io"
	"strconv"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// newFlags returns a flag set that reports errors instead of printing them.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args with fs, allowing flags after positional arguments
// (redrive 12 13 -wait 1m), and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// selection is the -filter and -consumer flags of redrive and purge.
type selection struct {
	filter, consumer string
}

func (s *selection) register(fs *flag.FlagSet) {
	fs.StringVar(&s.filter, "filter", "", "")
	fs.StringVar(&s.consumer, "consumer", "", "")
}

// given reports whether either flag was set.
func (s selection) given() bool { return s.filter != "" || s.consumer != "" }

// parse returns the filter the flags select; -consumer NAME is short for
// -filter consumer=NAME, and both may be given if they agree.
func (s selection) parse(cmd string) (dlq.Filter, error) {
	f, err := dlq.ParseFilter(s.filter)
	if err != nil {
		return f, usageError("%s: %v", cmd, err)
	}
	if s.consumer != "" {
		c, err := dlq.ParseFilter("consumer=" + s.consumer)
		if err != nil {
			return f, usageError("%s: -consumer: %v", cmd, err)
		}
		if f.Consumer != "" && f.Consumer != c.Consumer {
			return f, usageError("%s: -consumer %s contradicts the filter's consumer=%s", cmd, c.Consumer, f.Consumer)
		}
		f.Consumer = c.Consumer
	}
	return f, nil
}

// parseSeqs reads DLQ sequences.
func parseSeqs(cmd string, args []string) ([]uint64, error) {
	seqs := make([]uint64, len(args))
	for i, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, usageError("%s: %q is not a DLQ sequence (a positive number, as list shows)", cmd, a)
		}
		seqs[i] = n
	}
	return seqs, nil
}
