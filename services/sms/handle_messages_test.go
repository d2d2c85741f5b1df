package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/orderbus/orderbus/pkg/servicetest"
	"github.com/orderbus/orderbus/pkg/web"
)

func TestListMessages(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	const number, other = "+447700900961", "+15005550006"
	customer := uuid.NewString()
	var ids []string // oldest first
	for i, to := range []string{number, number, other, number} {
		m := Message{
			EventID: uuid.NewString(), OrderID: uuid.NewString(), CustomerID: customer, To: to,
			Body: "Order received", Provider: "log", ProviderID: "p", Status: statusSent, Attempts: 1,
		}
		if i == 1 {
			m.Status, m.ProviderID, m.Error = statusFailed, "", "webhook: answered 400 Bad Request"
		}
		err := pgx.BeginFunc(context.Background(), e.db, func(tx pgx.Tx) error {
			_, err := recordMessage(context.Background(), tx, durableSMS, m)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if to == number {
			ids = append(ids, m.EventID)
		}
	}
	newestFirst := slices.Clone(ids)
	slices.Reverse(newestFirst)

	tests := []struct {
		name, query string
		want        []string // event ids, in order
	}{
		{name: "all, newest first", query: "?to=" + url.QueryEscape(number), want: newestFirst},
		{name: "limit", query: "?to=" + url.QueryEscape(number) + "&limit=2", want: newestFirst[:2]},
		{name: "limit above max lowered", query: "?to=" + url.QueryEscape(number) + "&limit=1000", want: newestFirst},
		{name: "unescaped plus", query: "?to=" + number, want: newestFirst},
		{name: "unknown number", query: "?to=%2B4915112345678", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := e.GetAs("/v1/messages"+tt.query, servicetest.Operator(t))
			if code != http.StatusOK {
				t.Fatalf("GET /v1/messages%s = %d %s", tt.query, code, body)
			}
			var list struct{ Messages []Message }
			if err := json.Unmarshal([]byte(body), &list); err != nil || list.Messages == nil {
				t.Fatalf("decode %s: %v (want a messages list)", body, err)
			}
			got := []string{}
			for _, m := range list.Messages {
				got = append(got, m.EventID)
				if m.To != number || m.CustomerID != customer {
					t.Errorf("listed %+v, want only messages to %s", m, number)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("listed events %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListMessagesRejectsBadQuery(t *testing.T) {
	t.Parallel()
	e := startEnv(t, nil)
	tests := []struct{ name, query, field string }{
		{name: "missing to", query: "", field: "to"},
		{name: "to not E.164", query: "?to=07700900961", field: "to"},
		{name: "to with letters", query: "?to=%2B44abc", field: "to"},
		{name: "limit zero", query: "?to=%2B447700900961&limit=0", field: "limit"},
		{name: "limit not a number", query: "?to=%2B447700900961&limit=x", field: "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := e.GetAs("/v1/messages"+tt.query, servicetest.Operator(t))
			if code != http.StatusBadRequest {
				t.Fatalf("GET /v1/messages%s = %d %s, want 400", tt.query, code, body)
			}
			var p web.Problem
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatalf("decode problem %s: %v", body, err)
			}
			if p.Type != web.ProblemMalformed || p.Errors[tt.field] == "" {
				t.Errorf("problem = %+v, want %s naming %s", p, web.ProblemMalformed, tt.field)
			}
			if strings.Contains(p.Instance, "?") {
				t.Errorf("problem instance %q shows the query", p.Instance)
			}
		})
	}
}
