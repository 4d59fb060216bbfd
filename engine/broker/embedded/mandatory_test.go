package embedded

import (
	"context"
	"testing"

	"oms-sim/engine/broker"
)

// TestMandatoryUnroutableIsReturned: a mandatory message no queue takes
// completes returned and not acked, as on RabbitMQ; a routed one is acked;
// one that is not mandatory is dropped and acked.
func TestMandatoryUnroutableIsReturned(t *testing.T) {
	t.Parallel()
	_, c := testBroker(t)
	declare(t, c, oneQueue("x", broker.Topic, "q", "bound"))
	ch := openChannel(t, c)
	for _, tt := range []struct {
		key          string
		mandatory    bool
		acked, retnd bool
	}{
		{"bound", true, true, false},
		{"nobody", true, false, true},
		{"nobody", false, true, false},
	} {
		cf, err := ch.Publish(context.Background(), broker.Message{Exchange: "x", RoutingKey: tt.key, Mandatory: tt.mandatory, Body: []byte("m")})
		if err != nil {
			t.Fatal(err)
		}
		<-cf.Done()
		reply, returned := cf.Returned()
		if cf.Acked() != tt.acked || returned != tt.retnd || (returned && reply != noRoute) {
			t.Errorf("key %q mandatory %v: acked %v, returned %v (%q); want acked %v, returned %v", tt.key, tt.mandatory, cf.Acked(), returned, reply, tt.acked, tt.retnd)
		}
	}
	if n := ready(t, c, "q"); n != 1 {
		t.Errorf("queue holds %d, want 1 (the routed message)", n)
	}
}
