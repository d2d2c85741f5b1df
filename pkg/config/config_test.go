package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type smtpConfig struct {
	Host string `env:"HOST" envDefault:"localhost"`
	Port int    `env:"PORT" envDefault:"1025"`
}

type testConfig struct {
	HTTPAddr        string          `env:"HTTP_ADDR" envDefault:":8080"`
	DatabaseURL     string          `env:"DATABASE_URL,required"`
	ShutdownTimeout time.Duration   `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	Backoff         []time.Duration `env:"CONSUMER_BACKOFF" envDefault:"1s,2s,5s,10s,30s,1m"`
	Concurrency     int             `env:"CONSUMER_CONCURRENCY" envDefault:"8"`
	Password        string          `env:"SMTP_PASSWORD"`
	SMTP            smtpConfig      `envPrefix:"SMTP_"`
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoad(t *testing.T) {
	t.Parallel()
	defaults := testConfig{
		HTTPAddr:        ":8080",
		DatabaseURL:     "postgres://db/orders",
		ShutdownTimeout: 20 * time.Second,
		Backoff:         []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute},
		Concurrency:     8,
		SMTP:            smtpConfig{Host: "localhost", Port: 1025},
	}
	tests := []struct {
		name     string
		env      map[string]string
		want     func(c *testConfig)
		wantErrs []string // substrings of the error; none = success
	}{
		{name: "defaults", env: map[string]string{"DATABASE_URL": "postgres://db/orders"}, want: func(*testConfig) {}},
		{
			name: "overrides",
			env: map[string]string{
				"DATABASE_URL": "postgres://db/orders", "HTTP_ADDR": ":9000", "SHUTDOWN_TIMEOUT": "1m30s",
				"CONSUMER_BACKOFF": "100ms,1s", "CONSUMER_CONCURRENCY": "2", "SMTP_PASSWORD": "s3cret",
				"SMTP_HOST": "mail", "SMTP_PORT": "2525",
			},
			want: func(c *testConfig) {
				c.HTTPAddr, c.ShutdownTimeout, c.Concurrency, c.Password = ":9000", 90*time.Second, 2, "s3cret"
				c.Backoff = []time.Duration{100 * time.Millisecond, time.Second}
				c.SMTP = smtpConfig{Host: "mail", Port: 2525}
			},
		},
		{name: "empty value means default", env: map[string]string{"DATABASE_URL": "postgres://db/orders", "HTTP_ADDR": ""}, want: func(*testConfig) {}},
		{name: "missing required", env: map[string]string{}, wantErrs: []string{`"DATABASE_URL" is not set`}},
		{name: "empty required", env: map[string]string{"DATABASE_URL": ""}, wantErrs: []string{`"DATABASE_URL" is not set`}},
		{name: "bad duration", env: map[string]string{"DATABASE_URL": "x", "SHUTDOWN_TIMEOUT": "soon"}, wantErrs: []string{"ShutdownTimeout", `"soon"`}},
		{name: "bad duration in list", env: map[string]string{"DATABASE_URL": "x", "CONSUMER_BACKOFF": "1s,often"}, wantErrs: []string{"Backoff", `"often"`}},
		{name: "bad int", env: map[string]string{"DATABASE_URL": "x", "SMTP_PORT": "smtp"}, wantErrs: []string{"Port", "smtp"}},
		{
			name:     "all errors at once",
			env:      map[string]string{"SHUTDOWN_TIMEOUT": "soon", "CONSUMER_CONCURRENCY": "many"},
			wantErrs: []string{`"DATABASE_URL" is not set`, "ShutdownTimeout", "Concurrency"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load[testConfig](mapEnv(tt.env))
			if len(tt.wantErrs) > 0 {
				if err == nil {
					t.Fatalf("Load = %+v, want an error", got)
				}
				for _, s := range tt.wantErrs {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults
			want.Backoff = append([]time.Duration(nil), defaults.Backoff...)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load = %+v\nwant   %+v", got, want)
			}
		})
	}
}

// Not parallel: it sets process environment variables that Load must ignore.
func TestLoadConsultsOnlyGetenv(t *testing.T) {
	t.Setenv("HTTP_ADDR", ":7777")
	t.Setenv("DATABASE_URL", "postgres://from-os/db")
	var asked []string
	getenv := func(k string) string {
		asked = append(asked, k)
		if k == "DATABASE_URL" {
			return "postgres://from-getenv/db"
		}
		return ""
	}
	got, err := Load[testConfig](getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got.HTTPAddr != ":8080" || got.DatabaseURL != "postgres://from-getenv/db" {
		t.Fatalf("Load = %+v, want values from getenv and defaults only", got)
	}
	want := []string{"HTTP_ADDR", "DATABASE_URL", "SHUTDOWN_TIMEOUT", "CONSUMER_BACKOFF", "CONSUMER_CONCURRENCY", "SMTP_PASSWORD", "SMTP_HOST", "SMTP_PORT"}
	if !reflect.DeepEqual(asked, want) {
		t.Fatalf("getenv asked for %v, want %v", asked, want)
	}
}

func TestLoadRejectsNonStruct(t *testing.T) {
	t.Parallel()
	if _, err := Load[int](mapEnv(nil)); err == nil || !strings.HasPrefix(err.Error(), "load config: ") {
		t.Fatalf("Load[int] error = %v, want a load config error", err)
	}
}
