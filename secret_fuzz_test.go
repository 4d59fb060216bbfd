package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"oms-sim/engine"
	"oms-sim/engine/broker"
	"oms-sim/engine/broker/amqpbroker"
	"oms-sim/engine/pgstate"
)

// marker is the password every URL of FuzzNoSecretInOutput carries.
const marker = "Mk7rQpw9Zx"

// fuzzHosts are where the fuzzed URLs point: nothing listening, a bad
// port, no host, a bad escape, and the real broker (which refuses the
// marker password after its 3 s delay).
var fuzzHosts = []string{"127.0.0.1:1", "localhost:1", "127.0.0.1:abc", "[::1]:1", "", "h%zz:1", "127.0.0.1:99999", "127.0.0.1:5672"}

// FuzzNoSecretInOutput feeds URLs carrying a marker password, with fuzzed
// user, characters around the password, host and path, through the error
// path of every command and flag that takes a URL, and checks that the
// marker appears in no stdout, stderr or log file.
//
//	go test -run '^$' -fuzz FuzzNoSecretInOutput .
func FuzzNoSecretInOutput(f *testing.F) {
	f.Add("guest", "", "", uint8(0), "/", false)
	f.Add("u", "p%zz", "", uint8(0), "/", false)
	f.Add("u", "", "/x", uint8(1), "/vh", true)
	f.Add("u", "a:b", "?q", uint8(2), "", false)
	f.Add("u", "", "#f", uint8(3), "/a/b", false)
	f.Add("u@v", "", "@", uint8(4), "", false)
	f.Add("us/er", "", "", uint8(5), "/", false)
	f.Add("guest", "", "", uint8(7), "/", false)
	f.Fuzz(func(t *testing.T, user, pre, post string, host uint8, path string, tls bool) {
		for _, s := range []string{user, pre, post, path} {
			if len(s) > 64 || strings.ContainsAny(s, "\x00\r\n") || strings.Contains(strings.ToLower(s), strings.ToLower(marker[:4])) {
				return
			}
		}
		h := fuzzHosts[int(host)%len(fuzzHosts)]
		userinfo := user + ":" + pre + marker + post + "@" + h + path
		scheme, stream := "amqp://", "rabbitmq-stream://"
		if tls {
			scheme, stream = "amqps://", "rabbitmq-stream+tls://"
		}
		u, s, web, pg := scheme+userinfo, stream+userinfo, "http://"+userinfo, "postgres://"+userinfo
		const down = "amqp://guest:guest@127.0.0.1:1/"
		dir := t.TempDir()
		logs := func(name string) []string {
			return []string{"--log-file", filepath.Join(dir, name+".log"), "--log-level", "debug"}
		}
		local := []string{"--headless", "--http", "127.0.0.1:0"}
		runs := []struct {
			name string
			env  []string
			args []string
		}{
			{"run", nil, concat([]string{"--amqp", u, "--events", "memory"}, local, logs("run"))},
			{"run-env", []string{"OMS_AMQP_URL=" + u}, concat(local, logs("run-env"))},
			{"run-rabbitmq", nil, concat([]string{"--broker", "rabbitmq", "--amqp", u, "--events", "stream"}, local, logs("run-rabbitmq"))},
			{"run-stream", nil, concat([]string{"--amqp", down, "--stream-url", s, "--events", "stream"}, local, logs("run-stream"))},
			{"run-management", nil, concat([]string{"--amqp", down, "--management-url", web}, local, logs("run-management"))},
			{"run-target", nil, concat([]string{"--amqp", down, "--scenario", "steady", "--target", web}, local, logs("run-target"))},
			{"bench", nil, []string{"bench", "--amqp", u, "--duration", "1s", "--warmup", "0s", "--queue-types", "classic"}},
			{"bench-stream", nil, []string{"bench", "--stream-url", s, "--duration", "1s", "--warmup", "0s", "--queue-types", "stream"}},
			{"trace", nil, []string{"trace", "x", "--amqp", u}},
			{"trace-stream", nil, []string{"trace", "x", "--stream-url", s}},
			{"runs", nil, []string{"runs", "--amqp", u}},
			{"replay", nil, concat([]string{"replay", "--run", "r", "--amqp", u}, local, logs("replay"))},
			{"capacity", nil, concat([]string{"capacity", "--slo", "e2e_p99<1s", "--amqp", u, "--http", "127.0.0.1:0"}, logs("capacity"))},
			{"run-state", nil, concat([]string{"--broker", "embedded", "--state", pg}, local, logs("run-state"))},
			{"run-state-env", []string{"OMS_STATE_URL=" + pg}, concat([]string{"--broker", "embedded"}, local, logs("run-state-env"))},
		}
		var wg sync.WaitGroup
		for _, r := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, stdout, stderr := cli(t, r.env, r.args...)
				if code == 0 {
					t.Errorf("%s %q: exit 0; every one of these must fail", r.name, r.args)
				}
				if strings.Contains(stdout+stderr, marker) {
					t.Errorf("%s: the password of %q is in the output (exit %d):\nstdout: %s\nstderr: %s", r.name, u, code, stdout, stderr)
				}
			}()
		}
		wg.Wait()
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && strings.Contains(string(data), marker) {
				t.Errorf("the password of %q is in %s:\n%s", u, filepath.Base(p), data)
			}
		}
	})
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// FuzzURLErrorsHideSecret is the fast, in-process half of
// FuzzNoSecretInOutput: any string with the marker as its password goes
// through every URL check and redaction, and through a dial when the
// check refuses it; no message may carry the marker.
//
//	go test -run '^$' -fuzz FuzzURLErrorsHideSecret .
func FuzzURLErrorsHideSecret(f *testing.F) {
	for _, s := range []string{"amqp://u:%s@h:5672/", "amqp://u:p%%zz%s@h/", "amqp://u:%s/x@h/", "rabbitmq-stream://u:%s@h:abc/",
		"smtp://u:%s@h", "postgres://u:%s@h:5432/db", "postgresql://u:%s@h:abc/db?sslmode=bogus", "http://u:%s@h:15672/api/", "amqps://u@v:%s@h/", "amqp://u:%s#@h/", "amqp://u:%s?@h:1/@x"} {
		i := strings.Index(s, "%s")
		f.Add(strings.ReplaceAll(s[:i], "%%", "%"), strings.ReplaceAll(s[i+2:], "%%", "%"))
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		if strings.Contains(strings.ToLower(before+after), strings.ToLower(marker[:4])) {
			return
		}
		// Only a password: the marker must follow a ':' of the userinfo
		// and be followed by an '@' somewhere.
		if !strings.Contains(before, "://") || !strings.HasSuffix(before, ":") || !strings.Contains(after, "@") {
			return
		}
		raw := before + marker + after
		var msgs []string
		add := func(err error) {
			if err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		msgs = append(msgs, broker.Redact(raw))
		add(checkAMQP(raw))
		add(checkStream(raw))
		_, err := broker.CheckURL("--target", raw, "http", "https")
		add(err)
		_, err = engine.ParseSink(raw)
		add(err)
		_, err = pgstate.ParseURL("--state", raw)
		add(err)
		if amqpbroker.CheckURL("--amqp", raw) != nil {
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the check must refuse it before any dial
			_, err := amqpbroker.New(raw).Dial(ctx, "fuzz")
			add(err)
		}
		if _, err := tlsSetup(broker.TLSOptions{ServerName: "x"}, raw); err != nil {
			add(err)
		}
		for _, m := range msgs {
			if strings.Contains(m, marker) {
				t.Errorf("URL %q: the password is in %q", raw, m)
			}
		}
	})
}
