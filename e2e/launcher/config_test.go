package launcher

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means valid
	}{
		{"defaults", Config{}, ""},
		{"every known service", Config{Services: KnownServices()}, ""},
		{"env and port of a started service", Config{
			Env: map[string]map[string]string{"email": {"SMTP_TLS": "none"}}, Ports: map[string]int{"order": 9, PortNATS: 9},
		}, ""},
		{"unknown service", Config{Services: []string{"order", "billing"}}, `unknown service "billing"`},
		{"service twice", Config{Services: []string{"order", "order"}}, `"order" listed twice`},
		{"env of a service not started", Config{Services: []string{"order"}, Env: map[string]map[string]string{"email": {}}}, `env for service "email"`},
		{"port of an unknown name", Config{Ports: map[string]int{"redis": 6379}}, `port for "redis"`},
		{"routes", Config{Routes: []Route{{"order", DependencyPostgres}, {"order", DependencyNATS}}}, ""},
		{"route of a service not started", Config{Services: []string{"order"}, Routes: []Route{{"sms", DependencyNATS}}},
			`route sms->nats: service "sms" is not started`},
		{"route to an unknown dependency", Config{Routes: []Route{{"order", "redis"}}}, `dependency "redis"`},
		{"route twice", Config{Routes: []Route{{"order", DependencyNATS}, {"order", DependencyNATS}}}, "order->nats listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.setDefaults()
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %s", err, tt.wantErr)
			}
		})
	}
}

func TestStartRefusesBusyPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	// Binaries that do not exist prove nothing is started or built before
	// the ports are checked.
	_, err = Start(t.Context(), Config{
		Ports:    map[string]int{PortSMTP: port},
		Binaries: map[string]string{"order": "/nonexistent/order", "email": "/nonexistent/email"},
	})
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Start() = %v, want ErrPortInUse", err)
	}
	busy, ok := errors.AsType[*PortsInUseError](err)
	if !ok || len(busy.Names) != 1 || busy.Ports[PortSMTP] != port {
		t.Fatalf("Start() = %#v, want a *PortsInUseError naming only smtp port %d", err, port)
	}
	if !strings.Contains(err.Error(), strconv.Itoa(port)+" (smtp)") {
		t.Errorf("error %q does not name the smtp port", err)
	}
}

func TestServicesInStartOrder(t *testing.T) {
	t.Parallel()
	got := strings.Join(sortServices([]string{"email", "sms", "order", "gdpr", "inventory"}), ",")
	if want := "order,inventory,gdpr,email,sms"; got != want {
		t.Errorf("sortServices = %s, want %s", got, want)
	}
	ports := map[int]string{}
	for name, spec := range catalog() {
		if other, dup := ports[spec.port]; dup {
			t.Errorf("services %s and %s share port %d", name, other, spec.port)
		}
		ports[spec.port] = name
	}
}
