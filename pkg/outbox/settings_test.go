package outbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/outbox"
)

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		set     outbox.Settings
		wantErr []string // substrings of the error; none means valid
	}{
		{name: "defaults", set: outbox.Settings{PublishTimeout: 2 * time.Second, Interval: time.Second}},
		{name: "zero publish timeout", set: outbox.Settings{Interval: time.Second}, wantErr: []string{"PUBLISH_TIMEOUT"}},
		{name: "negative interval", set: outbox.Settings{PublishTimeout: time.Second, Interval: -time.Second}, wantErr: []string{"OUTBOX_INTERVAL"}},
		{name: "both", set: outbox.Settings{}, wantErr: []string{"PUBLISH_TIMEOUT", "OUTBOX_INTERVAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.set.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error naming %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

func TestSettingsLogValue(t *testing.T) {
	t.Parallel()
	v := outbox.Settings{PublishTimeout: 2 * time.Second, Interval: 250 * time.Millisecond}.LogValue()
	got := map[string]string{}
	for _, a := range v.Group() {
		got[a.Key] = a.Value.String()
	}
	if got["publish_timeout"] != "2s" || got["outbox_interval"] != "250ms" || len(got) != 2 {
		t.Errorf("LogValue = %v", got)
	}
}

func TestSettingsRelayConfig(t *testing.T) {
	t.Parallel()
	cfg := outbox.Settings{PublishTimeout: 3 * time.Second, Interval: 250 * time.Millisecond}.RelayConfig(nil, nil, nil, nil, nil)
	if cfg.PublishTimeout != 3*time.Second || cfg.Interval != 250*time.Millisecond {
		t.Errorf("RelayConfig = %+v", cfg)
	}
}
