package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI describes every endpoint of Handler. A test checks that each
// route registered in Handler appears here.
//
//go:embed openapi.json
var openAPI []byte

func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPI) // the client may have gone
}
