package telemetry

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the tracing configuration read from the standard OpenTelemetry
// environment variables (see Load). The zero Config has tracing off.
type Config struct {
	// Endpoint is the OTLP/HTTP traces URL spans are sent to, such as
	// http://127.0.0.1:4318/v1/traces; "" turns tracing off.
	Endpoint string
	// Headers are sent with every export (OTEL_EXPORTER_OTLP_HEADERS,
	// ..._TRACES_HEADERS); they may hold a secret, so they are never logged.
	Headers map[string]string
	// Timeout bounds one export (OTEL_EXPORTER_OTLP_TIMEOUT, milliseconds).
	Timeout time.Duration
	// Gzip compresses the exports (OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
	Gzip bool
	// ServiceName is the service.name resource attribute (OTEL_SERVICE_NAME,
	// else service.name in OTEL_RESOURCE_ATTRIBUTES, else the service's own name).
	ServiceName string
	// Attributes are the other resource attributes (OTEL_RESOURCE_ATTRIBUTES).
	Attributes map[string]string
	// Sampler is OTEL_TRACES_SAMPLER (default parentbased_always_on) and
	// SamplerArg its OTEL_TRACES_SAMPLER_ARG ratio.
	Sampler    string
	SamplerArg float64
	// BatchDelay, BatchTimeout, MaxQueue and MaxBatch tune the batch span
	// processor (OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT,
	// OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE); zero keeps
	// the SDK's defaults (5s, 30s, 2048, 512).
	BatchDelay   time.Duration
	BatchTimeout time.Duration
	MaxQueue     int
	MaxBatch     int
}

// Enabled reports whether c sends spans anywhere.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// Load reads the OpenTelemetry environment variables through getenv (never
// the process environment), for the service named service. Tracing is on
// when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or
// OTEL_EXPORTER_OTLP_ENDPOINT (with /v1/traces appended) is set, unless
// OTEL_TRACES_EXPORTER is "none" or OTEL_SDK_DISABLED is "true". The only
// protocol is http/protobuf. It returns an error naming the variable when
// a value is malformed, the exporter is not otlp or none, or the protocol
// is not http/protobuf.
func Load(getenv func(string) string, service string) (Config, error) {
	var errs []error
	c := Config{ServiceName: service, Sampler: "parentbased_always_on", SamplerArg: 1}
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }

	switch exp := get("OTEL_TRACES_EXPORTER"); exp {
	case "", "otlp":
	case "none":
		return Config{ServiceName: service}, nil
	default:
		return Config{}, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want otlp or none", exp)
	}
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return Config{ServiceName: service}, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := get(name); p != "" {
			if p != "http/protobuf" {
				errs = append(errs, fmt.Errorf("%s %q: only http/protobuf is supported", name, p))
			}
			break
		}
	}
	if ep := get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); ep != "" {
		c.Endpoint = ep
	} else if ep := get("OTEL_EXPORTER_OTLP_ENDPOINT"); ep != "" {
		c.Endpoint = strings.TrimSuffix(ep, "/") + "/v1/traces"
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OTLP traces endpoint %q: want an http:// or https:// URL", c.Endpoint))
		}
	}
	var err error
	if c.Headers, err = keyValues(firstSet(get, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")); err != nil {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %w", err))
	}
	if c.Attributes, err = keyValues(get("OTEL_RESOURCE_ATTRIBUTES")); err != nil {
		errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
	}
	if name, ok := c.Attributes["service.name"]; ok {
		c.ServiceName = name
		delete(c.Attributes, "service.name")
	}
	if name := get("OTEL_SERVICE_NAME"); name != "" {
		c.ServiceName = name
	}
	switch comp := firstSet(get, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"); comp {
	case "", "none":
	case "gzip":
		c.Gzip = true
	default:
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_COMPRESSION %q: want gzip or none", comp))
	}
	ms := func(name string, dst *time.Duration) {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s %q: want milliseconds", name, v))
				return
			}
			*dst = time.Duration(n) * time.Millisecond
		}
	}
	count := func(name string, dst *int) {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s %q: want a positive integer", name, v))
				return
			}
			*dst = n
		}
	}
	if v := firstSet(get, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT %q: want milliseconds", v))
		} else {
			c.Timeout = time.Duration(n) * time.Millisecond
		}
	}
	ms("OTEL_BSP_SCHEDULE_DELAY", &c.BatchDelay)
	ms("OTEL_BSP_EXPORT_TIMEOUT", &c.BatchTimeout)
	count("OTEL_BSP_MAX_QUEUE_SIZE", &c.MaxQueue)
	count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &c.MaxBatch)
	if s := get("OTEL_TRACES_SAMPLER"); s != "" {
		c.Sampler = s
	}
	switch c.Sampler {
	case "always_on", "always_off", "parentbased_always_on", "parentbased_always_off":
	case "traceidratio", "parentbased_traceidratio":
		if v := get("OTEL_TRACES_SAMPLER_ARG"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				errs = append(errs, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q: want a ratio from 0 to 1", v))
			}
			c.SamplerArg = f
		}
	default:
		errs = append(errs, fmt.Errorf("OTEL_TRACES_SAMPLER %q: want always_on, always_off, traceidratio or their parentbased_ forms", c.Sampler))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("telemetry config: %w", err)
	}
	return c, nil
}

// Variables returns the name of every environment variable Load reads,
// for checks of deployment files (docker-compose.yml) against it.
func Variables() []string {
	return []string{
		"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
		"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
		"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
		"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	}
}

// firstSet returns the value of the first of names that is set.
func firstSet(get func(string) string, names ...string) string {
	for _, n := range names {
		if v := get(n); v != "" {
			return v
		}
	}
	return ""
}

// keyValues parses the W3C-baggage-like list "k1=v1,k2=v2" of the OTEL_*
// variables, with percent-encoded values.
func keyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %q: want key=value", strings.TrimSpace(part))
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", k, err)
		}
		out[k] = dv
	}
	return out, nil
}
