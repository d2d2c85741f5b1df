package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/orderbus/orderbus/pkg/telemetry"
)

// NewLogger returns a logger writing to w at level ("debug", "info",
// "warn" or "error"; "" means info) in format ("json" or "text"; "" means
// json), both case-insensitive. It returns an error naming the accepted
// values when level or format is anything else. A record logged with a
// context carrying a span (logger.InfoContext and the like) gets
// trace_id and span_id attributes (telemetry.LogHandler).
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		lvl = slog.LevelDebug
	case "info", "":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, fmt.Errorf("new logger: unknown log level %q (want debug, info, warn or error)", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "json", "":
		return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts))), nil
	case "text":
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("new logger: unknown log format %q (want json or text)", format)
}
