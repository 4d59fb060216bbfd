package scenario

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Parse decodes and validates one scenario. filename is used in error
// positions and, without its extension, as the default name. On any problem
// it returns nil and an Errors listing every problem found, each as
// file:line:column: field: message.
func Parse(filename string, data []byte) (*Scenario, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark from some editors
	src := &source{file: filename, data: bytes.Clone(data), pos: map[string]pos{}, bad: map[string]bool{}, unknown: map[string]bool{}}
	s := &Scenario{src: src}
	errs := decodeFile(src, data, s)
	if len(errs) > 0 && errs[0].Field == "" && len(src.pos) == 0 {
		return nil, errs // not YAML, or empty: nothing to validate
	}
	if s.Name == "" && filename != "" {
		s.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(filename), ".yaml"), ".yml")
	}
	s.SetDefaults()
	errs = append(errs, s.validate()...)
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return s, nil
}

// Source returns the file a parsed scenario came from and its text (nil
// for a scenario built in code): parsing the text again gives the same
// scenario, so a run can store it and be re-driven later.
func (s *Scenario) Source() (file string, data []byte) {
	if s.src == nil {
		return "", nil
	}
	return s.src.file, s.src.data
}

// Load reads and parses the scenario file at path.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data)
}

// Validate checks every field, returning an Errors with all problems, or
// nil. For a scenario from Parse the problems carry file positions; for one
// built in code, only field paths. Call SetDefaults first.
func (s *Scenario) Validate() error {
	if errs := s.validate(); len(errs) > 0 {
		errs.sort()
		return errs
	}
	return nil
}
