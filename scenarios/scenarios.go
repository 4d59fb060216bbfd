// Package scenarios holds the scenario files shipped with oms-sim, embedded
// in the binary so that `--scenario burst` works from any directory, and
// resolves a --scenario argument to a file on disk or a shipped scenario.
package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"oms-sim/loadgen/scenario"
)

//go:embed *.yaml
var files embed.FS

// ErrUnknown is returned (wrapped) by Open for a name that is neither a file
// on disk nor a shipped scenario.
var ErrUnknown = errors.New("unknown scenario")

// Info describes one shipped scenario.
type Info struct {
	Name        string        // what to pass to --scenario, e.g. burst
	Description string        // the scenario's description, on one line
	Duration    time.Duration // total length of its phases (the drain comes after)
}

// Names returns the shipped scenario names, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".") // an embed.FS root always reads
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// List describes every shipped scenario, sorted by name. A scenario that
// fails to parse (which the tests rule out) is listed with the error as its
// description.
func List() []Info {
	var out []Info
	for _, name := range Names() {
		info := Info{Name: name}
		data, filename, _ := openShipped(name) // listed by Names, so present
		s, err := scenario.Parse(filename, data)
		if err != nil {
			info.Description = "invalid: " + firstLine(err.Error())
		} else {
			info.Description = strings.Join(strings.Fields(s.Description), " ")
			info.Duration = s.TotalDuration()
		}
		out = append(out, info)
	}
	return out
}

// openShipped reads a shipped scenario by name (without .yaml).
func openShipped(name string) ([]byte, string, error) {
	data, err := files.ReadFile(name + ".yaml")
	return data, path.Join("scenarios", name+".yaml"), err
}

// Open resolves a --scenario argument and returns the file's contents and
// the file name to use in messages. An existing file on disk wins; otherwise
// name (with or without .yaml) is looked up among the shipped scenarios,
// which are named "scenarios/NAME.yaml" in messages.
func Open(name string) (data []byte, filename string, err error) {
	if name == "" {
		return nil, "", fmt.Errorf("%w: no scenario given; shipped scenarios: %s", ErrUnknown, strings.Join(Names(), ", "))
	}
	isPath := strings.ContainsAny(name, `/\`)
	st, statErr := os.Stat(name)
	if statErr == nil && !st.IsDir() {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, "", fmt.Errorf("read scenario: %w", err)
		}
		return data, name, nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
	if !isPath {
		if data, filename, err := openShipped(base); err == nil {
			return data, filename, nil
		}
	}
	if statErr == nil { // a directory, and not a shipped name either
		return nil, "", fmt.Errorf("scenario %s is a directory, not a .yaml file", name)
	}
	hint, what := "", "no such file"
	if !isPath {
		hint, what = suggest(base, Names()), "no such file and no shipped scenario of that name"
	}
	return nil, "", fmt.Errorf("%w %q: %s%s; shipped scenarios: %s (see `oms-sim scenarios`)", ErrUnknown, name, what, hint, strings.Join(Names(), ", "))
}

// Load opens and parses a scenario by name or path, as Open resolves it.
func Load(name string) (*scenario.Scenario, error) {
	data, filename, err := Open(name)
	if err != nil {
		return nil, err
	}
	return scenario.Parse(filename, data)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// suggest returns ` (did you mean "x"?)` for a near miss or a prefix.
func suggest(got string, names []string) string {
	for _, n := range names {
		if strings.HasPrefix(n, got) || strings.HasPrefix(got, n) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return scenario.Suggest(got, names)
}
