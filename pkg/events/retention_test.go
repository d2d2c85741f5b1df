package events_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/config"
	"github.com/orderbus/orderbus/pkg/events"
)

func TestRetention(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    events.Retention
		wantErr []string
	}{
		{name: "defaults", env: map[string]string{}, want: events.DefaultRetention()},
		{name: "set", env: map[string]string{"STREAM_MAX_AGE": "48h", "DLQ_MAX_AGE": "1h", "DLQ_MAX_BYTES": "1048576", "STREAM_REPLICAS": "3"},
			want: events.Retention{MaxAge: 48 * time.Hour, DLQMaxAge: time.Hour, DLQMaxBytes: 1 << 20, Replicas: 3}},
		{name: "below the duplicate window", env: map[string]string{"STREAM_MAX_AGE": "10m", "DLQ_MAX_AGE": "1m", "DLQ_MAX_BYTES": "0", "STREAM_REPLICAS": "0"},
			wantErr: []string{"STREAM_MAX_AGE", "DLQ_MAX_AGE", "DLQ_MAX_BYTES", "STREAM_REPLICAS"}},
		{name: "more replicas than JetStream allows", env: map[string]string{"STREAM_REPLICAS": "7"}, wantErr: []string{"STREAM_REPLICAS 7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := config.Load[events.Retention](func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = r.Validate()
			if len(tt.wantErr) > 0 {
				for _, w := range tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("Validate() = %v, want it to name %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if r != tt.want {
				t.Errorf("retention = %+v, want %+v", r, tt.want)
			}
		})
	}
}

func TestRetentionLogValue(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "retention", events.DefaultRetention())
	for _, want := range []string{`"stream_max_age":"168h0m0s"`, `"dlq_max_age":"720h0m0s"`, `"dlq_max_bytes":1073741824`, `"stream_replicas":1`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log line lacks %s: %s", want, buf.String())
		}
	}
}

func TestStreamsReplicas(t *testing.T) {
	t.Parallel()
	r := events.DefaultRetention()
	r.Replicas = 3
	for _, s := range events.Streams(r) {
		if s.Replicas != 3 {
			t.Errorf("stream %s: %d replicas, want 3", s.Name, s.Replicas)
		}
	}
	for _, s := range events.Streams(events.Retention{MaxAge: time.Hour}) {
		if s.Replicas != 1 {
			t.Errorf("stream %s with Replicas unset: %d replicas, want 1", s.Name, s.Replicas)
		}
	}
}
