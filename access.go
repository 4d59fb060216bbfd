package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
)

// minAdminToken is the shortest admin token accepted: long enough that
// guessing it over HTTP is hopeless.
const minAdminToken = 16

// adminToken is --admin-token, else OMS_ADMIN_TOKEN. The flag has no
// default so that --help never prints a token from the environment.
func (o runOptions) adminToken() string {
	if o.adminTok != "" {
		return o.adminTok
	}
	return os.Getenv("OMS_ADMIN_TOKEN")
}

// checkAPIAccess enforces who may steer the pipeline (issue 14): on
// loopback anyone on this host may; beyond it the changing endpoints need
// a token, or the user says --insecure-admin out loud.
func (o runOptions) checkAPIAccess() error {
	tok := o.adminToken()
	if tok != "" {
		if len(tok) < minAdminToken || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) {
			return exitWith(exitUsage, fmt.Errorf("--admin-token / OMS_ADMIN_TOKEN: want at least %d printable ASCII characters without spaces (e.g. openssl rand -hex 24)", minAdminToken))
		}
		return nil
	}
	if o.insecureAdmin || loopbackListen(o.httpAddr) {
		return nil
	}
	return exitWith(exitUsage, fmt.Errorf("--http %s listens beyond loopback: give --admin-token TOKEN (or OMS_ADMIN_TOKEN) so that only holders of it may change stages and stock, or --insecure-admin to let anyone who reaches the port do so; or listen on localhost (the default, localhost:5000)", o.httpAddr))
}

// loopbackListen reports whether a listen address accepts connections
// from this host only: localhost or a loopback IP. An empty host (":5000")
// is every interface; another name could resolve anywhere.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// insecureAdminWarning is said on stderr and in the log when the
// changing endpoints are open beyond loopback.
func (o runOptions) insecureAdminWarning() string {
	if o.adminToken() != "" || !o.insecureAdmin {
		return ""
	}
	return fmt.Sprintf("WARNING: --insecure-admin: anyone who can reach %s may change stages and stock (PATCH /api/stages, POST /api/inventory/restock); use --admin-token instead", o.httpAddr)
}

// openPrivateLog opens the dashboard's default log in a shared directory
// ($TMPDIR) without following a symlink planted there, and only if the
// file is a regular file of this user; it is created readable by this
// user only.
func openPrivateLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link; refusing to follow it (remove it, or choose --log-file)", path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.Mode().IsRegular() || (ok && int(st.Uid) != os.Getuid()) {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file of this user; refusing to log to it (remove it, or choose --log-file)", path)
	}
	return f, nil
}
