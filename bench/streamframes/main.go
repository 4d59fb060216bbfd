// Command streamframes measures what a RabbitMQ stream costs the broker
// per publish frame and per byte: it publishes fixed-size messages to a
// fresh stream at a fixed rate, --per-frame messages to a frame, with one
// consumer (--consumers) reading them back, as every oms-sim process does, and reports
// the CPU the broker's beam.smp process used meanwhile, as a share of one
// core. Run it on the broker's host, with nothing else running:
//
//	go run ./bench/streamframes --size 30000 --frames 170 --per-frame 1
//	go run ./bench/streamframes --size 30000 --frames 17 --per-frame 10
//
// The two move the same bytes; the event log's linger (engine/streamlog)
// was chosen from the difference.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/amqp"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/message"
	"github.com/rabbitmq/rabbitmq-stream-go-client/pkg/stream"

	"oms-sim/engine"
)

func main() {
	url := flag.String("url", "rabbitmq-stream://guest:guest@localhost:5552/", "stream URL")
	size := flag.Int("size", 30000, "bytes per message")
	frames := flag.Int("frames", 170, "publish frames per second (0: publish nothing, to measure the idle broker)")
	perFrame := flag.Int("per-frame", 1, "messages per frame")
	dur := flag.Duration("duration", 10*time.Second, "how long to publish")
	consumers := flag.Int("consumers", 1, "consumers reading the stream back meanwhile")
	flag.Parse()
	if err := run(*url, *size, *frames, *perFrame, *consumers, *dur); err != nil {
		log.Fatal(err)
	}
}

func run(url string, size, frames, perFrame, consumers int, dur time.Duration) error {
	beam, err := beamPID()
	if err != nil {
		return err
	}
	env, err := stream.NewEnvironment(stream.NewEnvironmentOptions().SetUri(url).
		SetAddressResolver(stream.AddressResolver{Host: "localhost", Port: 5552}).
		SetReadBuffer(1 << 20).SetWriteBuffer(1 << 20))
	if err != nil {
		return err
	}
	defer env.Close()
	name := fmt.Sprintf("bench-streamframes-%d", os.Getpid())
	if err := env.DeclareStream(name, nil); err != nil {
		return err
	}
	defer func() { _ = env.DeleteStream(name) }()
	prod, err := env.NewProducer(name, stream.NewProducerOptions().SetProducerName(name))
	if err != nil {
		return err
	}
	confirms := prod.NotifyPublishConfirmation()
	go func() {
		for range confirms { // the client blocks until confirmations are taken
		}
	}()
	for range consumers {
		if _, err := env.NewConsumer(name, func(stream.ConsumerContext, *amqp.Message) {}, stream.NewConsumerOptions()); err != nil {
			return err
		}
	}
	body := make([]byte, size)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	cpu0, err := cpuSeconds(beam)
	if err != nil {
		return err
	}
	start := time.Now()
	var seq int64
	if frames > 0 {
		tick := time.NewTicker(time.Second / time.Duration(frames))
		defer tick.Stop()
		msgs := make([]message.StreamMessage, 0, perFrame)
		for time.Since(start) < dur {
			<-tick.C
			msgs = msgs[:0]
			for range perFrame {
				seq++
				m := amqp.NewMessage(body)
				m.SetPublishingId(seq)
				msgs = append(msgs, m)
			}
			if err := prod.BatchSend(msgs); err != nil {
				return err
			}
		}
	} else {
		time.Sleep(dur)
	}
	elapsed := time.Since(start).Seconds()
	cpu1, err := cpuSeconds(beam)
	if err != nil {
		return err
	}
	fmt.Printf("size %d B, %d frames/s of %d, %d consumers: %.1f MB/s, broker %.1f %% of a core\n",
		size, frames, perFrame, consumers, float64(seq)*float64(size)/elapsed/1e6, (cpu1-cpu0)/elapsed*100)
	return nil
}

// beamPID finds the broker's Erlang VM among this host's processes.
func beamPID() (int, error) {
	if pids := engine.BeamPIDs(); len(pids) > 0 {
		return pids[0], nil
	}
	return 0, fmt.Errorf("no beam.smp process on this host: run this next to the broker")
}

// cpuSeconds returns a process's user+system CPU time.
func cpuSeconds(pid int) (float64, error) {
	d, ok := engine.ProcCPU(pid)
	if !ok {
		return 0, fmt.Errorf("read the CPU time of process %d", pid)
	}
	return d.Seconds(), nil
}
