package config

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "password in user info", in: "postgres://app:s3cret@db:5432/orders?sslmode=disable", want: "postgres://app:xxxxx@db:5432/orders?sslmode=disable"},
		{name: "escaped password", in: "postgres://app:p%40ss%2Fw0rd@db/orders", want: "postgres://app:xxxxx@db/orders"},
		{name: "empty password", in: "postgres://app:@db/orders", want: "postgres://app:xxxxx@db/orders"},
		{name: "user only", in: "postgres://postgres@127.0.0.1:5432/orders?sslmode=disable", want: "postgres://postgres@127.0.0.1:5432/orders?sslmode=disable"},
		{name: "no user info", in: "nats://127.0.0.1:4222", want: "nats://127.0.0.1:4222"},
		{name: "nats user and password", in: "nats://svc:hunter2@nats:4222", want: "nats://svc:xxxxx@nats:4222"},
		{name: "password query parameter", in: "postgres://app@db/orders?sslmode=require&password=s3cret", want: "postgres://app@db/orders?sslmode=require&password=xxxxx"},
		{name: "several secret parameters", in: "https://api.example/v1?token=abc&api_key=def&x=1", want: "https://api.example/v1?token=xxxxx&api_key=xxxxx&x=1"},
		{name: "unparsable URL", in: "postgres://app:s3cret@db:port/orders", want: "postgres://app:xxxxx@db:port/orders"},
		{name: "keyword DSN", in: "host=db user=app password=s3cret dbname=orders", want: "host=db user=app password=xxxxx dbname=orders"},
		{name: "keyword DSN quoted", in: "host=db password='s3 cr\\'et' dbname=orders", want: "host=db password=xxxxx dbname=orders"},
		{name: "keyword DSN spaced", in: "host=db password = s3cret", want: "host=db password = xxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, secret := range []string{"s3cret", "hunter2", "p%40ss", "abc", "s3 cr"} {
				if strings.Contains(tt.in, secret) && strings.Contains(got, secret) {
					t.Errorf("Redact(%q) = %q still holds %q", tt.in, got, secret)
				}
			}
		})
	}
}

func TestMaskUserInfo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@h:4222,nats://token@h2:4222", "nats://xxxxx@h:4222,nats://xxxxx@h2:4222"},
		{"u:p@h:4222", "xxxxx@h:4222"},
		{"nats://u:p@[::1", "nats://xxxxx@[::1"},
	}
	for _, tt := range tests {
		if got := MaskUserInfo(tt.in); got != tt.want {
			t.Errorf("MaskUserInfo(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
