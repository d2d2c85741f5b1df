package config

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, level, format string
		wantLines           []string // substrings, one per emitted line, in order
		wantErr             string
	}{
		{name: "json info", level: "info", format: "json", wantLines: []string{`"level":"INFO","msg":"info"`, `"level":"WARN"`, `"level":"ERROR"`}},
		{name: "defaults", level: "", format: "", wantLines: []string{`"msg":"info"`, `"msg":"warn"`, `"msg":"error"`}},
		{name: "text debug", level: "debug", format: "text", wantLines: []string{"level=DEBUG msg=debug", "level=INFO msg=info", "level=WARN msg=warn", "level=ERROR msg=error"}},
		{name: "case-insensitive", level: "WARN", format: "JSON", wantLines: []string{`"msg":"warn"`, `"msg":"error"`}},
		{name: "error only", level: "error", format: "text", wantLines: []string{"msg=error"}},
		{name: "bad level", level: "verbose", format: "json", wantErr: `unknown log level "verbose" (want debug, info, warn or error)`},
		{name: "bad format", level: "info", format: "logfmt", wantErr: `unknown log format "logfmt" (want json or text)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger, err := NewLogger(&buf, tt.level, tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewLogger error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			logger.Debug("debug")
			logger.Info("info")
			logger.Warn("warn")
			logger.Error("error")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != len(tt.wantLines) {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(tt.wantLines), buf.String())
			}
			for i, want := range tt.wantLines {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], want)
				}
				if strings.HasPrefix(want, `"`) && !json.Valid([]byte(lines[i])) {
					t.Errorf("line %d is not JSON: %q", i, lines[i])
				}
			}
		})
	}
}
