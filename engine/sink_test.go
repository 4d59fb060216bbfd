package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oms-sim/engine/broker/embedded"
)

func TestDirSinkWritesRenderedEmails(t *testing.T) {
	dir := t.TempDir()
	b := embedded.New()
	t.Cleanup(func() { b.Close() })
	e := startEngine(t, b, func(c *Config) { c.EmailSink = "dir:" + dir })
	o, err := e.PlaceOrder(t.Context(), OrderRequest{ProductID: 2, Quantity: 3, UserID: 42})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, e, o.OrderID, StatusConfirmed)
	data, err := os.ReadFile(filepath.Join(dir, o.OrderID+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"To: user42@example.com", "Subject: Your order is confirmed", "3 x product 2", "charged"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("email lacks %q:\n%s", want, data)
		}
	}
}

func TestParseSink(t *testing.T) {
	for _, ok := range []string{"log", "dir:/tmp/x", "smtp://localhost:1025"} {
		if _, err := ParseSink(ok); err != nil {
			t.Errorf("ParseSink(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dir:", "smtp://", "mail"} {
		if _, err := ParseSink(bad); err == nil || !strings.Contains(err.Error(), "valid are") && !strings.Contains(err.Error(), "want smtp") {
			t.Errorf("ParseSink(%q) = %v, want an error naming the choices", bad, err)
		}
	}
}
