package engine

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
