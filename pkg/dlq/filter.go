package dlq

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orderbus/orderbus/pkg/events"
)

// Filter selects dead letters. Every field set must match (AND); the zero
// Filter matches every dead letter. ParseFilter reads one from the
// command-line form and String writes it back.
type Filter struct {
	// Consumer is the durable that gave up (Orderbus-Consumer), exactly.
	Consumer string
	// Reason is the runner's reason (permanent, malformed), exactly.
	Reason string
	// Type is the CloudEvents type (ce-type), exactly, such as
	// orderbus.order.placed.v1.
	Type string
	// Subject is a NATS subject filter (with * and >) over the original
	// subject, such as orders.placed.*.
	Subject string
	// OrderID is the payload's order_id, exactly.
	OrderID string
	// ErrorContains is a substring of the error text (Orderbus-Error),
	// compared case-insensitively.
	ErrorContains string
	// Newer keeps dead letters stored less than this long ago; 0 means
	// no bound.
	Newer time.Duration
	// Older keeps dead letters stored at least this long ago; 0 means no
	// bound.
	Older time.Duration
}

// Filter keys, in the order String writes them.
const (
	keyConsumer = "consumer"
	keyReason   = "reason"
	keyType     = "type"
	keySubject  = "subject"
	keyOrder    = "order"
	keyError    = "error"
	keyNewer    = "newer"
	keyOlder    = "older"
)

// FilterSyntax describes ParseFilter's grammar in one paragraph, for
// usage messages.
const FilterSyntax = `comma-separated conditions, all of which must hold:
  consumer=NAME     the durable that gave up (email, sms, inventory, ...)
  reason=WORD       permanent or malformed
  type=TYPE         the event type, e.g. orderbus.order.placed.v1
  subject=FILTER    the original subject, NATS wildcards allowed, e.g. orders.placed.*
  order=ID          the order id in the payload
  error~TEXT        the error contains TEXT (case-insensitive)
  newer=DURATION    dead-lettered less than DURATION ago (90s, 2h, 7d, 1d12h)
  older=DURATION    dead-lettered at least DURATION ago
e.g. consumer=email,reason=permanent,older=1h`

// maxDays bounds the days of a duration so that it cannot overflow.
const maxDays = 100 * 365

// ParseFilter parses s, a comma-separated list of key=value conditions
// (see FilterSyntax): keys consumer, reason, type, subject, order, newer
// and older take "=", and error takes "~" (substring). Spaces around
// conditions, keys and values are ignored; "" is the zero Filter. It
// returns an error wrapping ErrBadFilter, naming the condition, for an
// unknown key, a key given twice, a wrong operator, an empty or invalid
// value, or newer and older that no dead letter can satisfy together.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	if !utf8.ValidString(s) {
		return f, fmt.Errorf("%w: not valid UTF-8", ErrBadFilter)
	}
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return Filter{}, fmt.Errorf("%w: empty condition in %q", ErrBadFilter, s)
		}
		i := strings.IndexAny(item, "=~")
		if i < 0 {
			return Filter{}, fmt.Errorf("%w: %q: want key=value (or error~text)", ErrBadFilter, item)
		}
		key, op, value := strings.TrimSpace(item[:i]), item[i], strings.TrimSpace(item[i+1:])
		if err := f.set(key, op, value); err != nil {
			return Filter{}, fmt.Errorf("%w: %q: %v", ErrBadFilter, item, err)
		}
		if seen[key] {
			return Filter{}, fmt.Errorf("%w: %s given twice", ErrBadFilter, key)
		}
		seen[key] = true
	}
	if f.Newer > 0 && f.Older > 0 && f.Newer <= f.Older {
		return Filter{}, fmt.Errorf("%w: newer=%s,older=%s matches nothing (newer must be the longer one)",
			ErrBadFilter, formatDuration(f.Newer), formatDuration(f.Older))
	}
	return f, nil
}

// MustParseFilter is ParseFilter for literals known to be valid; it
// panics on an error.
func MustParseFilter(s string) Filter {
	f, err := ParseFilter(s)
	if err != nil {
		panic(err)
	}
	return f
}

func (f *Filter) set(key string, op byte, value string) error {
	wantOp := byte('=')
	if key == keyError {
		wantOp = '~'
	}
	switch key {
	case keyConsumer, keyReason, keyType, keySubject, keyOrder, keyError, keyNewer, keyOlder:
	default:
		return fmt.Errorf("unknown key %q (want consumer, reason, type, subject, order, error, newer or older)", key)
	}
	if op != wantOp {
		return fmt.Errorf("%s takes %c", key, wantOp)
	}
	if value == "" {
		return fmt.Errorf("empty value")
	}
	if strings.ContainsFunc(value, unicode.IsControl) {
		return fmt.Errorf("control character in value")
	}
	if key != keyError && strings.ContainsFunc(value, unicode.IsSpace) {
		return fmt.Errorf("space in value")
	}
	var err error
	switch key {
	case keyConsumer:
		if strings.ContainsAny(value, ".*>") {
			return fmt.Errorf("a durable name has no '.', '*' or '>'")
		}
		f.Consumer = value
	case keyReason:
		if !isWord(value) {
			return fmt.Errorf("want a lower-case word such as permanent")
		}
		f.Reason = value
	case keyType:
		f.Type = value
	case keySubject:
		if err := validSubjectFilter(value); err != nil {
			return err
		}
		f.Subject = value
	case keyOrder:
		f.OrderID = value
	case keyError:
		f.ErrorContains = value
	case keyNewer:
		f.Newer, err = parseDuration(value)
	case keyOlder:
		f.Older, err = parseDuration(value)
	}
	return err
}

// String returns f in ParseFilter's form, its conditions in a fixed
// order, so that ParseFilter(f.String()) == f for every f it returned;
// the zero Filter is "".
func (f Filter) String() string {
	var parts []string
	add := func(key, op, value string) {
		if value != "" {
			parts = append(parts, key+op+value)
		}
	}
	add(keyConsumer, "=", f.Consumer)
	add(keyReason, "=", f.Reason)
	add(keyType, "=", f.Type)
	add(keySubject, "=", f.Subject)
	add(keyOrder, "=", f.OrderID)
	add(keyError, "~", f.ErrorContains)
	if f.Newer > 0 {
		add(keyNewer, "=", formatDuration(f.Newer))
	}
	if f.Older > 0 {
		add(keyOlder, "=", formatDuration(f.Older))
	}
	return strings.Join(parts, ",")
}

// IsZero reports whether f matches every dead letter.
func (f Filter) IsZero() bool { return f == Filter{} }

// Match reports whether e satisfies every condition of f, ages measured
// at now.
func (f Filter) Match(e Entry, now time.Time) bool {
	switch {
	case f.Consumer != "" && e.Consumer != f.Consumer,
		f.Reason != "" && e.Reason != f.Reason,
		f.Type != "" && e.Type != f.Type,
		f.OrderID != "" && e.OrderID != f.OrderID,
		f.Subject != "" && !subjectMatches(f.Subject, e.Subject),
		f.ErrorContains != "" && !strings.Contains(strings.ToLower(e.Error), strings.ToLower(f.ErrorContains)),
		f.Newer > 0 && now.Sub(e.Time) >= f.Newer,
		f.Older > 0 && now.Sub(e.Time) < f.Older:
		return false
	}
	return true
}

// streamFilter returns the DLQ subject filter that selects as much of f
// as the server can: dlq.<consumer or *>.<subject or >>.
func (f Filter) streamFilter() string {
	consumer, subject := "*", ">"
	if f.Consumer != "" {
		consumer = events.SubjectToken(f.Consumer)
	}
	if f.Subject != "" {
		subject = f.Subject
	}
	return "dlq." + consumer + "." + subject
}

func isWord(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'):
		default:
			return false
		}
	}
	return s != ""
}

// validSubjectFilter checks s is a NATS subject filter: non-empty tokens,
// '*' and '>' only as whole tokens, '>' only last.
func validSubjectFilter(s string) error {
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			return fmt.Errorf("subject %q has an empty token", s)
		case t == ">" && i != len(tokens)-1:
			return fmt.Errorf("subject %q: '>' must be the last token", s)
		case t != "*" && t != ">" && strings.ContainsAny(t, "*>"):
			return fmt.Errorf("subject %q: '*' and '>' must be whole tokens", s)
		}
	}
	return nil
}

// subjectMatches reports whether subject matches the NATS filter pattern.
func subjectMatches(pattern, subject string) bool {
	p, s := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, t := range p {
		if t == ">" {
			return len(s) > i
		}
		if i >= len(s) || (t != "*" && t != s[i]) {
			return false
		}
	}
	return len(p) == len(s)
}

// parseDuration reads a positive Go duration, optionally preceded by a
// whole number of days: 90s, 2h, 7d, 1d12h.
func parseDuration(s string) (time.Duration, error) {
	var days int64
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 && allDigits(s[:i]) {
		if i > 6 {
			return 0, fmt.Errorf("duration %q too long", s)
		}
		for _, c := range s[:i] {
			days = days*10 + int64(c-'0')
		}
		if days > maxDays {
			return 0, fmt.Errorf("duration %q too long", s)
		}
		rest = s[i+1:]
	}
	var d time.Duration
	if rest != "" || days == 0 {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 90s, 2h, 7d)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	const maxRest = time.Duration(1<<63-1) - maxDays*24*time.Hour
	if d > maxRest {
		return 0, fmt.Errorf("duration %q too long", s)
	}
	total := time.Duration(days)*24*time.Hour + d
	if total <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return total, nil
}

// formatDuration writes d as parseDuration reads it: whole days as Nd,
// the rest as a Go duration.
func formatDuration(d time.Duration) string {
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	s := ""
	if days > 0 {
		s = fmt.Sprintf("%dd", days)
	}
	if rest > 0 {
		s += rest.String()
	}
	return s
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
