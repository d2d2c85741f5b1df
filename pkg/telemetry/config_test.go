package telemetry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    func(telemetry.Config) string // "" when as expected
		wantErr string
	}{
		{name: "nothing set: off", env: nil, want: func(c telemetry.Config) string {
			if c.Enabled() || c.ServiceName != "order" {
				return "want off with service name order"
			}
			return ""
		}},
		{name: "base endpoint gets /v1/traces", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"},
			want: func(c telemetry.Config) string {
				if c.Endpoint != "http://127.0.0.1:4318/v1/traces" {
					return "endpoint " + c.Endpoint
				}
				return ""
			}},
		{name: "traces endpoint as is and first", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:9/x"},
			want: func(c telemetry.Config) string {
				if c.Endpoint != "http://b:9/x" {
					return "endpoint " + c.Endpoint
				}
				return ""
			}},
		{name: "exporter none turns it off", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_TRACES_EXPORTER": "none"},
			want: func(c telemetry.Config) string {
				if c.Enabled() {
					return "want off"
				}
				return ""
			}},
		{name: "sdk disabled turns it off", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"},
			want: func(c telemetry.Config) string {
				if c.Enabled() {
					return "want off"
				}
				return ""
			}},
		{name: "names, attributes, headers, batching", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4318",
			"OTEL_RESOURCE_ATTRIBUTES":    "service.name=x,deployment.environment=dev%20box",
			"OTEL_SERVICE_NAME":           "order-1",
			"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20s3cret",
			"OTEL_BSP_SCHEDULE_DELAY":     "100",
			"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			want: func(c telemetry.Config) string {
				switch {
				case c.ServiceName != "order-1":
					return "service name " + c.ServiceName
				case c.Attributes["deployment.environment"] != "dev box" || len(c.Attributes) != 1:
					return "attributes"
				case c.Headers["authorization"] != "Bearer s3cret":
					return "headers"
				case c.BatchDelay != 100*time.Millisecond:
					return "batch delay"
				case c.SamplerArg != 0.25:
					return "sampler arg"
				}
				return ""
			}},
		{name: "grpc refused", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: "only http/protobuf"},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: "want otlp or none"},
		{name: "bad endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, wantErr: "http:// or https://"},
		{name: "bad sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, wantErr: "OTEL_TRACES_SAMPLER"},
		{name: "bad delay", env: map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "5s"}, wantErr: "OTEL_BSP_SCHEDULE_DELAY"},
		{name: "bad headers", env: map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, wantErr: "OTEL_EXPORTER_OTLP_HEADERS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := telemetry.Load(func(k string) string { return tt.env[k] }, "order")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if msg := tt.want(c); msg != "" {
				t.Errorf("Load = %+v: %s", c, msg)
			}
		})
	}
}

// TestVariablesListsWhatLoadReads checks Variables against the names Load
// asks getenv for, with every variable set so that no branch is skipped.
func TestVariablesListsWhatLoadReads(t *testing.T) {
	t.Parallel()
	asked := map[string]bool{}
	_, _ = telemetry.Load(func(k string) string { asked[k] = true; return "" }, "s")
	_, _ = telemetry.Load(func(k string) string {
		asked[k] = true
		switch k {
		case "OTEL_EXPORTER_OTLP_ENDPOINT":
			return "http://127.0.0.1:4318"
		case "OTEL_TRACES_SAMPLER":
			return "traceidratio"
		}
		return ""
	}, "s")
	listed := map[string]bool{}
	for _, v := range telemetry.Variables() {
		listed[v] = true
	}
	for k := range asked {
		if !listed[k] {
			t.Errorf("Load reads %s, which Variables does not list", k)
		}
	}
	for k := range listed {
		if !asked[k] {
			t.Errorf("Variables lists %s, which Load never reads", k)
		}
	}
}
