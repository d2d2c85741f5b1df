package launcher

import (
	"maps"
	"strings"
	"testing"
)

func TestParseInstances(t *testing.T) {
	t.Parallel()
	services := []string{"order", "email", "sms"}
	tests := []struct {
		name, spec string
		want       map[string]int
		wantErr    string
	}{
		{name: "empty", spec: "", want: map[string]int{}},
		{name: "every service", spec: "2", want: map[string]int{"order": 2, "email": 2, "sms": 2}},
		{name: "per service", spec: "order=2,email=3", want: map[string]int{"order": 2, "email": 3}},
		{name: "both", spec: "2,sms=1", want: map[string]int{"order": 2, "email": 2, "sms": 1}},
		{name: "not a number", spec: "order=two", wantErr: `"order=two"`},
		{name: "too many", spec: "10", wantErr: "1 to 9"},
		{name: "zero", spec: "email=0", wantErr: "1 to 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseInstances(tt.spec, services)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseInstances(%q) = %v, %v; want an error containing %s", tt.spec, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("ParseInstances(%q) = %v, %v; want %v", tt.spec, got, err, tt.want)
			}
		})
	}
}

func TestInstancesConfig(t *testing.T) {
	t.Parallel()
	c := Config{Services: []string{"order", "email"}, Instances: map[string]int{"email": 2}, Fixed: true}
	if got := strings.Join(c.instanceNames(), ","); got != "order,email,email-2" {
		t.Errorf("instanceNames = %s", got)
	}
	if p := c.instancePort("email", 2); p != 8183 {
		t.Errorf("email-2 fixed port %d, want 8183", p)
	}
	bad := Config{Services: []string{"order"}, Instances: map[string]int{"sms": 2, "order": 12}}
	err := bad.Validate()
	for _, want := range []string{`instances of service "sms", which is not started`, "instances of order: 12"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to contain %s", err, want)
		}
	}
}
