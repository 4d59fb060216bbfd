package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

func newLogger(o runOptions) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if o.logFile != "" {
		open := func(p string) (*os.File, error) { return os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644) }
		if o.privateLog {
			open = openPrivateLog
		}
		f, err := open(o.logFile)
		if err != nil {
			return nil, nil, exitWith(exitUsage, fmt.Errorf("--log-file: %w", err))
		}
		w, closeFn = f, func() { f.Close() }
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		closeFn()
		return nil, nil, exitWith(exitUsage, fmt.Errorf("--log-level %q: valid are debug, info, warn, error", o.logLevel))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closeFn, nil
}
