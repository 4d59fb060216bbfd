package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The broker's own view of our queues and connections, from the
// management API: figures across every consumer and process (this
// process's snapshot sees only its own consumers' unacked messages).

// BrokerSide is what the management API says of the pipeline's queues and
// this process's connections.
type BrokerSide struct {
	// Available is false when the management API is off, unreachable or
	// refused; Note then says why in plain words.
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
	// Queues are the pipeline's queues (any vhost holding that name).
	Queues []BrokerQueue `json:"queues,omitempty"`
	// Connections counts this process's connections the broker knows
	// (named PROCESS/…); Flow those in flow control (the broker throttles
	// their publishing), Blocked those blocked or blocking by an alarm.
	Connections int `json:"connections"`
	Flow        int `json:"flow"`
	Blocked     int `json:"blocked"`
	// Alarms are the nodes' memory and disk alarms that are on ("memory
	// on rabbit@a"), as in NodeLoad.Alarms: while one is on, the broker
	// blocks every publisher.
	Alarms []string `json:"alarms,omitempty"`
}

// BrokerQueue is one queue as the broker counts it.
type BrokerQueue struct {
	Name    string `json:"name"`
	Ready   int    `json:"ready"`
	Unacked int    `json:"unacked"` // delivered to any consumer, not yet acked
	// Consumers is every consumer of the queue, of every process.
	Consumers int `json:"consumers"`
	// PublishRate and DeliverRate are the broker's messages per second
	// in and out (its own sampling, about 5 s).
	PublishRate float64 `json:"publish_rate"`
	DeliverRate float64 `json:"deliver_rate"`
}

// sideOff is the BrokerSide of a process that does not poll.
func sideOff(why string) BrokerSide { return BrokerSide{Note: why} }

// pollSide reads the pipeline's queues and this process's connections.
// Errors never carry the URL (it holds the password).
func (p *mgmtPoller) pollSide(ctx context.Context) BrokerSide {
	var qs []struct {
		Name      string `json:"name"`
		Ready     int    `json:"messages_ready"`
		Unacked   int    `json:"messages_unacknowledged"`
		Consumers int    `json:"consumers"`
		Stats     struct {
			Publish struct {
				Rate float64 `json:"rate"`
			} `json:"publish_details"`
			Deliver struct {
				Rate float64 `json:"rate"`
			} `json:"deliver_get_details"`
		} `json:"message_stats"`
	}
	cols := "name,messages_ready,messages_unacknowledged,consumers,message_stats.publish_details.rate,message_stats.deliver_get_details.rate"
	if err := p.getJSON(ctx, "queues?columns="+url.QueryEscape(cols), &qs); err != nil {
		return BrokerSide{Note: err.Error()}
	}
	side := BrokerSide{Available: true}
	for _, want := range p.queues {
		bq := BrokerQueue{Name: want}
		for _, q := range qs {
			if q.Name == want {
				bq.Ready += q.Ready
				bq.Unacked += q.Unacked
				bq.Consumers += q.Consumers
				bq.PublishRate += q.Stats.Publish.Rate
				bq.DeliverRate += q.Stats.Deliver.Rate
			}
		}
		side.Queues = append(side.Queues, bq)
	}
	var conns []struct {
		State  string `json:"state"`
		Client struct {
			Name string `json:"connection_name"`
		} `json:"client_properties"`
	}
	if err := p.getJSON(ctx, "connections?columns=state,client_properties.connection_name", &conns); err != nil {
		side.Note = "connections: " + err.Error()
		return side
	}
	for _, c := range conns {
		// The name the client gave (PROCESS/part), not the broker's
		// "address -> address".
		if !strings.HasPrefix(c.Client.Name, p.connPrefix) {
			continue
		}
		side.Connections++
		switch c.State {
		case "flow":
			side.Flow++
		case "blocked", "blocking":
			side.Blocked++
		}
	}
	return side
}

// getJSON GETs base+path into v, with errors in plain words.
func (p *mgmtPoller) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return fmt.Errorf("management API request: bad URL")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("management API unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("management API answered %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("management API: unreadable answer: %v", err)
	}
	return nil
}

func (p *mgmtPoller) getSide() BrokerSide {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.side
	s.Queues = slices.Clone(s.Queues)
	if s.Available {
		s.Alarms = slices.Clone(p.load.Alarms)
	}
	return s
}
