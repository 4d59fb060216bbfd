package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"oms-sim/engine"
)

// requireAdmin guards a changing endpoint: with a token configured, a
// request without "Authorization: Bearer TOKEN" gets 401. The token is
// compared in constant time and never echoed.
func (e *server) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	if e.cfg.AdminToken == "" {
		return h
	}
	want := []byte(e.cfg.AdminToken)
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			e.CountAPI(engine.APIUnauthorized)
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
