package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// logBuffer is a concurrency-safe log sink for assertions on log output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Lines returns the JSON log records written so far.
func (b *logBuffer) Lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func newTestLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func TestWriteProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		problem *Problem
		want    Problem
	}{
		{
			name:    "constructed",
			problem: NewProblem(ProblemNotFound, 404, "No order o1."),
			want:    Problem{Type: ProblemNotFound, Title: "Not found", Status: 404, Detail: "No order o1.", Instance: "/v1/orders/o1"},
		},
		{
			name:    "defaults filled in",
			problem: &Problem{},
			want:    Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Instance: "/v1/orders/o1"},
		},
		{
			name:    "unknown type titled by status",
			problem: NewProblem("https://example.com/teapot", 418, ""),
			want:    Problem{Type: "https://example.com/teapot", Title: "I'm a teapot", Status: 418, Instance: "/v1/orders/o1"},
		},
		{
			name:    "instance kept",
			problem: &Problem{Type: ProblemConflict, Title: "Conflict", Status: 409, Instance: "urn:x"},
			want:    Problem{Type: ProblemConflict, Title: "Conflict", Status: 409, Instance: "urn:x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := *tt.problem
			rec := httptest.NewRecorder()
			WriteProblem(rec, httptest.NewRequest(http.MethodGet, "/v1/orders/o1?customer_id=secret", nil), tt.problem)
			resp := response{Response: rec.Result(), body: rec.Body.Bytes()}
			got := resp.problem(t)
			if rec.Code != tt.want.Status {
				t.Errorf("status = %d, want %d", rec.Code, tt.want.Status)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("problem = %+v, want %+v", got, tt.want)
			}
			if fmt.Sprint(*tt.problem) != fmt.Sprint(before) {
				t.Errorf("WriteProblem changed its argument to %+v", *tt.problem)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantLogged string // the error text logged; "" = nothing logged
	}{
		{name: "problem", err: NewProblem(ProblemConflict, 409, "taken"), wantStatus: 409, wantType: ProblemConflict},
		{name: "wrapped problem", err: fmt.Errorf("create order: %w", NewProblem(ProblemValidation, 422, "bad")), wantStatus: 422, wantType: ProblemValidation},
		{name: "internal error", err: errors.New("pgx: connection refused to db.internal"), wantStatus: 500, wantType: ProblemInternal,
			wantLogged: "pgx: connection refused to db.internal"},
		{name: "nil error", err: nil, wantStatus: 500, wantType: ProblemInternal, wantLogged: "web.WriteError called with a nil error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest(http.MethodPost, "/v1/orders", nil), logger, tt.err)
			resp := response{Response: rec.Result(), body: rec.Body.Bytes()}
			p := resp.problem(t)
			if rec.Code != tt.wantStatus || p.Type != tt.wantType {
				t.Fatalf("got %d %q, want %d %q", rec.Code, p.Type, tt.wantStatus, tt.wantType)
			}
			lines := logs.Lines(t)
			if (tt.wantLogged != "") != (len(lines) == 1) {
				t.Fatalf("log lines = %v, want logged: %q", lines, tt.wantLogged)
			}
			if tt.wantLogged != "" {
				if lines[0]["error"] != tt.wantLogged || lines[0]["level"] != "ERROR" || lines[0]["route"] != "unmatched" {
					t.Errorf("log = %v, want the error at ERROR", lines[0])
				}
				if strings.Contains(string(resp.body), "db.internal") {
					t.Errorf("internal error text leaked to the client: %s", resp.body)
				}
			}
		})
	}
}
