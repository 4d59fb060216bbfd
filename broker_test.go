package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// TestAutoFallsBackOnlyWhenNotNamed checks DESIGN.md §3: auto uses the
// embedded broker when the default RabbitMQ does not answer, but a broker
// the user named is never silently replaced.
func TestAutoFallsBackOnlyWhenNotNamed(t *testing.T) {
	t.Setenv("OMS_AMQP_URL", "")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dead := "amqp://guest:guest@127.0.0.1:1/"
	tests := []struct {
		name     string
		o        runOptions
		wantKind string
	}{
		{"default URL, nothing answers", runOptions{brokerMode: "auto", amqpURL: dead}, "embedded"},
		{"--amqp named", runOptions{brokerMode: "auto", amqpURL: dead, amqpSet: true}, "rabbitmq"},
		{"--broker rabbitmq", runOptions{brokerMode: "rabbitmq", amqpURL: dead}, "rabbitmq"},
		{"--broker embedded", runOptions{brokerMode: "embedded", amqpURL: dead}, "embedded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, kind, note, err := openBroker(context.Background(), tt.o, log)
			if err != nil {
				t.Fatal(err)
			}
			if kind != tt.wantKind {
				t.Fatalf("kind %q, want %q", kind, tt.wantKind)
			}
			if kind == "embedded" && (note == "" || d.Describe() != "embedded") {
				t.Errorf("embedded broker chosen without saying so: note %q, describe %q", note, d.Describe())
			}
		})
	}
	t.Run("OMS_AMQP_URL named", func(t *testing.T) {
		t.Setenv("OMS_AMQP_URL", dead)
		_, kind, _, err := openBroker(context.Background(), runOptions{brokerMode: "auto", amqpURL: dead}, log)
		if err != nil || kind != "rabbitmq" {
			t.Fatalf("kind %q err %v, want rabbitmq: the environment named it", kind, err)
		}
	})
}
