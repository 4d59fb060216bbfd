package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfilesOfTheWholeRun: --cpuprofile, --exectrace and --memprofile
// each write their recording of the run (a gzipped pprof profile, a Go
// execution trace, a gzipped allocation profile), and a path that cannot be written is a usage error naming the
// flag.
func TestProfilesOfTheWholeRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sc := writeFile(t, "short.yaml", "name: short\nphases: [{duration: 1s, rate: 20/s}]\n")
	cpu, tr, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "run.trace"), filepath.Join(dir, "mem.pprof")
	code, stdout, stderr := cli(t, nil, "--broker", "embedded", "--scenario", sc, "--headless", "--http", "127.0.0.1:0",
		"--events", "memory", "--cpuprofile", cpu, "--exectrace", tr, "--memprofile", mem)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(cpu); err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("--cpuprofile: %v, %d bytes; want a gzipped profile", err, len(b))
	}
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) || len(b) < 1000 {
		t.Errorf("--exectrace: %v, %d bytes starting %q; want a Go execution trace", err, len(b), b[:min(len(b), 16)])
	}
	if b, err := os.ReadFile(mem); err != nil || !bytes.Contains(gunzip(t, b), []byte("alloc_space")) {
		t.Errorf("--memprofile: %v, %d bytes; want a gzipped profile of alloc_space", err, len(b))
	}
	for _, flag := range []string{"--cpuprofile", "--exectrace", "--memprofile"} {
		code, _, stderr := cli(t, nil, "--broker", "embedded", "--scenario", sc, "--headless", flag, filepath.Join(dir, "no", "such", "dir", "f"))
		if code != exitUsage || !strings.Contains(stderr, flag+":") {
			t.Errorf("%s into a missing directory: exit %d, want %d naming the flag\n%s", flag, code, exitUsage, stderr)
		}
	}
}

// gunzip returns b unzipped, or nothing when it is not gzip.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(r)
	return out
}
