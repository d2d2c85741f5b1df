package main

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// erasure is one erasure seen on the GDPR stream: when it was requested
// and which participants have answered. It holds no customer id.
type erasure struct {
	ErasureID   string    `json:"erasure_id"`
	RequestedAt time.Time `json:"requested_at"`
	// Answered are the participants that published their completion.
	Answered []string `json:"answered"`
	// Waiting are the expected participants that have not answered yet.
	Waiting []string `json:"waiting"`
}

// erasures tracks erasures until every expected participant has answered
// (CONSOLE_ERASURE_PARTICIPANTS, the gdpr service's GDPR_PARTICIPANTS);
// the gdpr service's gdpr_erasures_open gauge, shown beside them, is the
// authority. At most max are kept, the oldest dropped first. Its methods
// are safe for concurrent use.
type erasures struct {
	participants []string
	max          int

	mu   sync.Mutex
	open map[string]*erasure
}

func newErasures(participants []string, max int) *erasures {
	return &erasures{participants: participants, max: max, open: map[string]*erasure{}}
}

func (e *erasures) get(id string) *erasure {
	if x, ok := e.open[id]; ok {
		return x
	}
	x := &erasure{ErasureID: id, Answered: []string{}}
	e.open[id] = x
	for len(e.open) > e.max {
		var oldest *erasure
		for _, c := range e.open {
			if oldest == nil || c.RequestedAt.Before(oldest.RequestedAt) {
				oldest = c
			}
		}
		delete(e.open, oldest.ErasureID)
	}
	return x
}

// requested records a gdpr.erasure.requested event.
func (e *erasures) requested(id string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(id).RequestedAt = at
}

// answered records a participant's completion; the erasure is no longer
// open once every expected participant has answered.
func (e *erasures) answered(id, service string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(id)
	if x.RequestedAt.IsZero() {
		x.RequestedAt = at
	}
	if !slices.Contains(x.Answered, service) {
		x.Answered = append(x.Answered, service)
		slices.Sort(x.Answered)
	}
	if len(e.waiting(x)) == 0 {
		delete(e.open, id)
	}
}

func (e *erasures) waiting(x *erasure) []string {
	var w []string
	for _, p := range e.participants {
		if !slices.Contains(x.Answered, p) {
			w = append(w, p)
		}
	}
	return w
}

// list returns the open erasures, oldest first.
func (e *erasures) list() []erasure {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]erasure, 0, len(e.open))
	for _, x := range e.open {
		c := *x
		c.Answered = slices.Clone(x.Answered)
		c.Waiting = e.waiting(x)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b erasure) int {
		if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ErasureID, b.ErasureID)
	})
	return out
}
