package events

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Service names: each names a service's NATS identity, its ce-source
// (SourceOf) and, for participants, its erasure answer subject.
const (
	ServiceOrder     = "order"
	ServiceInventory = "inventory"
	ServiceGDPR      = "gdpr"
	ServiceEmail     = "email"
	ServiceSMS       = "sms"
)

// Durable names the durable consumer Durable on Stream, with the subject
// filters it is created with.
type Durable struct {
	Stream  string
	Durable string
	Filters []string
}

// Service is what one service does on the bus: the catalogue that the NATS
// permissions (pkg/natsauth) and the ce-source check are derived from. A
// service's subscriptions.go must list exactly its Consumers.
type Service struct {
	// Name is the service name (ServiceOrder...).
	Name string
	// Publishes lists the subject patterns the service publishes, besides
	// the dead letters of its own durables (dlq.<durable>.>).
	Publishes []string
	// Consumers lists its durable consumers.
	Consumers []Durable
	// Manages lists the streams it creates at start-up and recreates when
	// they disappear; the others it waits for. Each stream is managed by
	// the service that publishes its events, and the DLQ by every
	// consuming service, since any of them may need it first.
	Manages []string
	// Purges lists the streams it erases messages of (gdpr's erasure):
	// it reads them one by one, purges by subject and deletes single
	// messages.
	Purges []string
}

// SourceOf returns the ce-source of the events service publishes,
// "/orderbus/<service>".
func SourceOf(service string) string { return "/orderbus/" + service }

// ErasureDurable returns the durable on which participant service
// consumes erasure requests, "<service>-erasure".
func ErasureDurable(service string) string { return service + "-erasure" }

// Participants returns the services that hold personal data and answer
// erasure requests.
func Participants() []string {
	return []string{ServiceOrder, ServiceEmail, ServiceSMS, ServiceInventory}
}

// Services returns the catalogue of every service, in start order (order,
// inventory, gdpr, email, sms). Each call returns fresh values.
func Services() []Service {
	participant := func(s Service) Service {
		s.Publishes = append(s.Publishes, ErasureCompletedSubject(s.Name), ErasureVerifiedSubject(s.Name))
		s.Consumers = append(s.Consumers, Durable{StreamGDPR, ErasureDurable(s.Name),
			[]string{FilterErasureRequested, FilterErasureVerify}})
		return s
	}
	return []Service{
		participant(Service{
			Name:      ServiceOrder,
			Publishes: []string{"orders.placed.*", "orders.confirmed.*", "orders.rejected.*"},
			Consumers: []Durable{{StreamInventory, "order-inventory", []string{FilterInventory}}},
			Manages:   []string{StreamOrders, StreamDLQ},
		}),
		participant(Service{
			Name:      ServiceInventory,
			Publishes: []string{"inventory.reserved.*", "inventory.rejected.*"},
			Consumers: []Durable{{StreamOrders, "inventory", []string{FilterOrderPlaced}}},
			Manages:   []string{StreamInventory, StreamDLQ},
		}),
		{
			Name:      ServiceGDPR,
			Publishes: []string{SubjectErasureRequested, SubjectErasureVerify},
			Consumers: []Durable{{StreamGDPR, "gdpr-completions", []string{FilterErasureCompleted, FilterErasureVerified}}},
			Manages:   []string{StreamGDPR, StreamDLQ},
			Purges:    []string{StreamOrders, StreamInventory, StreamDLQ},
		},
		participant(Service{
			Name:      ServiceEmail,
			Consumers: []Durable{{StreamOrders, "email", []string{FilterOrderPlaced, FilterOrderRejected}}},
			Manages:   []string{StreamDLQ},
		}),
		participant(Service{
			Name:      ServiceSMS,
			Consumers: []Durable{{StreamOrders, "sms", []string{FilterOrderPlaced}}},
			Manages:   []string{StreamDLQ},
		}),
	}
}

// ServiceNamed returns the catalogue entry of name, and false for a name
// that is not a service.
func ServiceNamed(name string) (Service, bool) {
	i := slices.IndexFunc(Services(), func(s Service) bool { return s.Name == name })
	if i < 0 {
		return Service{}, false
	}
	return Services()[i], true
}

// Publisher returns the service allowed to publish on subject: order for
// orders.*, inventory for inventory.*, gdpr for gdpr.erasure.requested
// and gdpr.erasure.verify, the service named by the last token for
// gdpr.erasure.completed.<service> and gdpr.erasure.verified.<service>.
// That last rule holds for any service, participant or not (gdpr ignores
// an answer from a service it did not ask). It returns false for a subject
// no service publishes (the DLQ's).
func Publisher(subject string) (string, bool) {
	for _, s := range Services() {
		for _, p := range s.Publishes {
			if subjectMatches(p, subject) {
				return s.Name, true
			}
		}
	}
	for _, prefix := range []string{"gdpr.erasure.completed.", "gdpr.erasure.verified."} {
		if service, ok := strings.CutPrefix(subject, prefix); ok && service != "" && !strings.Contains(service, ".") {
			return service, true
		}
	}
	return "", false
}

// CheckSource returns an error wrapping ErrForeignSource when source is
// not the ce-source (SourceOf) of the service allowed to publish subject,
// or when no service publishes subject. A consumer dead-letters such an
// event instead of applying it: it is forged, or misrouted.
func CheckSource(subject, source string) error {
	publisher, ok := Publisher(subject)
	if !ok {
		return fmt.Errorf("%w: no service publishes %s", ErrForeignSource, subject)
	}
	if want := SourceOf(publisher); source != want {
		return fmt.Errorf("%w: ce-source %q on %s, want %q", ErrForeignSource, source, subject, want)
	}
	return nil
}

// subjectMatches reports whether subject matches pattern, whose tokens may
// be * (one token) or a final > (one or more).
func subjectMatches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) || (p != "*" && p != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}

// ErrForeignSource is wrapped by CheckSource's errors: an event whose
// ce-source is not the service allowed to publish its subject.
var ErrForeignSource = errors.New("event from a service not allowed to publish its subject")

// ManagedBy returns the streams service creates (Service.Manages), never
// nil: an unknown service manages none.
func ManagedBy(service string) []string {
	s, _ := ServiceNamed(service)
	return append([]string{}, s.Manages...)
}
