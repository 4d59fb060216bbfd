package engine

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// Admin access modes of the changing endpoints (PATCH /api/stages/{name},
// POST /api/inventory/restock), as snapshots report them in api.admin.
const (
	// AdminToken: a bearer token is required (Config.AdminToken).
	AdminToken = "token"
	// AdminLoopback: no token; the API listens on loopback only, so only
	// this host can reach it.
	AdminLoopback = "loopback"
	// AdminInsecure: no token although the API may be reachable from
	// other hosts (--insecure-admin); said in the header and the log.
	AdminInsecure = "insecure"
)

// adminMode is how the changing endpoints are guarded.
func (c *Config) adminMode() string {
	switch {
	case c.AdminToken != "":
		return AdminToken
	case c.AdminInsecure:
		return AdminInsecure
	}
	return AdminLoopback
}

// requireAdmin guards a changing endpoint: with a token configured, a
// request without "Authorization: Bearer TOKEN" gets 401. The token is
// compared in constant time and never echoed.
func (e *Engine) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	if e.cfg.AdminToken == "" {
		return h
	}
	want := []byte(e.cfg.AdminToken)
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			e.api.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Bearer realm="oms-sim admin"`)
			msg := "this endpoint changes the pipeline: send Authorization: Bearer <the --admin-token>"
			if ok {
				msg = "wrong admin token"
			}
			writeJSON(w, http.StatusUnauthorized, apiError{Error: msg, Field: "Authorization", Reason: ReasonUnauthorized})
			return
		}
		h(w, r)
	}
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
