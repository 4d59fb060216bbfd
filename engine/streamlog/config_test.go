package streamlog

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "tls", cfg: Config{URL: "rabbitmq-stream+tls://u:p@broker:5551/vh"}},
		{name: "amqp scheme", cfg: Config{URL: "amqp://guest:guest@localhost:5672/"}, want: []string{"URL: scheme"}},
		{name: "no host", cfg: Config{URL: "rabbitmq-stream:///"}, want: []string{"URL: no host"}},
		{name: "bad port", cfg: Config{URL: "rabbitmq-stream://localhost:99999/"}, want: []string{"the port must be a number"}},
		{name: "two path segments", cfg: Config{URL: "rabbitmq-stream://localhost/a/b"}, want: []string{"URL: path"}},
		{
			name: "every problem at once",
			cfg:  Config{Stream: " ", MaxAge: -time.Second, MaxBytes: -1, Buffer: -1, SocketBuffer: 10},
			want: []string{"Stream: empty", "MaxAge:", "MaxBytes:", "Buffer:", "SocketBuffer:"},
		},
		{name: "sub-second max age", cfg: Config{MaxAge: time.Millisecond}, want: []string{"whole seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.setDefaults()
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to mention %q", err, w)
				}
			}
		})
	}
}

func TestRedactHidesPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"rabbitmq-stream://guest:s3cret@localhost:5552/",
		"rabbitmq-stream://guest:s3%cret@localhost:5552/", // does not parse
	} {
		if got := redact(raw); strings.Contains(got, "s3") {
			t.Errorf("redact(%q) = %q", raw, got)
		}
		if _, err := parseURL(raw); err != nil && strings.Contains(err.Error(), "s3") {
			t.Errorf("parseURL(%q) error shows the password: %v", raw, err)
		}
	}
}

func TestWithPortMakesDefaultExplicit(t *testing.T) {
	t.Parallel()
	raw := "rabbitmq-stream://guest:guest@localhost/"
	ep, err := parseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := withPort(raw, ep), "rabbitmq-stream://guest:guest@localhost:5552/"; got != want {
		t.Errorf("withPort = %q, want %q", got, want)
	}
}
