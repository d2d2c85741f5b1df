package main

import (
	"slices"
	"time"

	"github.com/orderbus/orderbus/pkg/dlq"
)

// state is everything the page shows, from the watcher and the poller.
type state struct {
	journeys *journeys
	erasures *erasures
	status   *status
}

// snapshot is the JSON of GET /v1/snapshot and of each server-sent
// event: the whole page's data at Time.
type snapshot struct {
	Time      time.Time      `json:"time"`
	Orders    []journey      `json:"orders"`
	Consumers []consumerView `json:"consumers"`
	Services  []serviceView  `json:"services"`
	// DeadLetters are the newest dead letters (CONSOLE_DEAD_LETTERS of
	// them); DeadLetterCount counts them all.
	DeadLetters     []dlq.Entry `json:"dead_letters"`
	DeadLetterCount uint64      `json:"dead_letter_count"`
	Erasures        []erasure   `json:"erasures"`
	// Errors are what the last poll could not read (JetStream down...).
	Errors []string `json:"errors"`
}

func (s *state) snapshot() snapshot {
	st := s.status
	st.mu.Lock()
	out := snapshot{
		Consumers:       slices.Clone(st.consumers),
		Services:        slices.Clone(st.services),
		DeadLetters:     slices.Clone(st.deadLetters),
		DeadLetterCount: st.dlqCount,
		Errors:          slices.Clone(st.errors),
	}
	st.mu.Unlock()
	out.Time = time.Now().UTC()
	out.Orders = s.journeys.list()
	out.Erasures = s.erasures.list()
	for _, p := range []*[]consumerView{&out.Consumers} {
		if *p == nil {
			*p = []consumerView{}
		}
	}
	if out.Services == nil {
		out.Services = []serviceView{}
	}
	if out.DeadLetters == nil {
		out.DeadLetters = []dlq.Entry{}
	}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	return out
}
