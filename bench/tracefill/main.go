// Command tracefill fills a namespace's event stream (NS.oms.events) with
// the events of many synthetic orders, as a busy pipeline would, so that
// bench/trace-big.sh can time `oms-sim trace` and `oms-sim runs` on a
// stream of millions of events (issue 11: a trace took 25 s on 4.7
// million). Orders are in flight a wave of --wave at a time, their events
// interleaved; ids are UUIDv7s made as the order starts, like the API's.
// --rate paces it like a real pipeline (whose chunks the broker stamps as
// the events happen); unpaced, the broker writes seconds behind the
// events' times, and a trace's read from a timestamp starts that much
// earlier. It prints one JSON line: the events written, how long it took, and the
// ids of an order near the start, the middle and the end.
//
//	go run ./bench/tracefill --namespace bench-trace --events 5000000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/google/uuid"

	"oms-sim/engine"
	"oms-sim/engine/streamlog"
)

// steps is a confirmed order's lifecycle, as the engine logs it.
var steps = []struct{ typ, stage string }{
	{engine.EventAccepted, "api"}, {engine.EventPaymentStarted, "payment"}, {engine.EventPaid, "payment"},
	{engine.EventInventoryStarted, "inventory"}, {engine.EventStockTaken, "inventory"},
	{engine.EventEmailStarted, "email"}, {engine.EventConfirmed, "email"},
}

func main() {
	url := flag.String("stream-url", streamlog.DefaultURL, "stream URL")
	ns := flag.String("namespace", "bench-trace", "namespace of the stream (NS.oms.events)")
	total := flag.Int("events", 5_000_000, "events to write")
	wave := flag.Int("wave", 2000, "orders in flight at once (their events interleave)")
	rate := flag.Float64("rate", 0, "events a second (0: as fast as the broker takes them; a pipeline at its ceiling writes ~25 000)")
	flag.Parse()
	if err := run(*url, *ns, *total, *wave, *rate); err != nil {
		log.Fatal(err)
	}
}

func run(url, ns string, total, wave int, rate float64) error {
	names := engine.Names{Namespace: ns}
	l, err := streamlog.Open(context.Background(), streamlog.Config{
		URL: url, Stream: names.Of(streamlog.DefaultStream), RunStream: names.Of(streamlog.DefaultRunStream),
		Buffer: 400_000, Name: "tracefill",
	})
	if err != nil {
		return err
	}
	start := time.Now()
	runID := uuid.Must(uuid.NewV7()).String()
	l.Append(engine.Event{RunID: runID, Type: engine.EventRunStarted, Time: start, Detail: "tracefill"})
	orders := total / len(steps)
	var ids []string // sampled: first, middle, last
	ids = make([]string, 0, 3)
	written := 0
	for o := 0; o < orders; o += wave {
		n := min(wave, orders-o)
		wv := make([]string, n)
		for i := range wv {
			wv[i] = uuid.Must(uuid.NewV7()).String()
		}
		for _, at := range []int{0, orders / 2, orders - 1} {
			if at >= o && at < o+n {
				ids = append(ids, wv[at-o])
			}
		}
		for si, s := range steps {
			for i, id := range wv {
				ev := engine.Event{OrderID: id, Type: s.typ, Stage: s.stage, Worker: s.stage + "-1", Process: "tracefill", Time: time.Now().UTC()}
				if si == 0 {
					ev.Order = &engine.Order{OrderID: id, ProductID: 1 + i%50, Quantity: 1 + i%3, UserID: 100 + i, AmountCents: 1999, CreatedAt: ev.Time}
				}
				if si%2 == 1 {
					ev.WaitUS, ev.ServiceUS = 1200, 0
				} else if si > 0 {
					ev.ServiceUS = 4000
				}
				l.Append(ev)
				written++
			}
		}
		// Keep the producer's buffer from overflowing (Append drops then).
		for l.Stats().Pending > 200_000 {
			time.Sleep(10 * time.Millisecond)
		}
		if rate > 0 { // an absolute schedule: written events are due at start + written/rate
			time.Sleep(time.Until(start.Add(time.Duration(float64(written) / rate * float64(time.Second)))))
		}
	}
	l.Append(engine.Event{RunID: runID, Type: engine.EventRunFinished, Time: time.Now(), Detail: `{"accepted":0,"lost":0}`})
	if err := l.Close(); err != nil {
		return err
	}
	st := l.Stats()
	if st.Dropped > 0 {
		return fmt.Errorf("%d events dropped", st.Dropped)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"events": written, "confirmed": st.Confirmed, "seconds": time.Since(start).Seconds(),
		"first": ids[0], "middle": ids[1], "last": ids[len(ids)-1], "run_id": runID,
	})
}
