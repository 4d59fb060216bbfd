package loadgen

import (
	"strings"
	"testing"

	"oms-sim/engine"
	"oms-sim/internal/pgtest"
)

// TestCheckDatabaseLedger: the tables' facts become the audit's counts —
// a double charge, a refund without an inventory failure or a charge,
// a charge of an order the run never saw accepted, a product whose stock
// does not balance — and each shows in the report's lines.
func TestCheckDatabaseLedger(t *testing.T) {
	t.Parallel()
	l := engine.StateLedger{
		Charged:            []string{"a", "b", "c", "x"},
		DoubleCharged:      []string{"b"},
		Refunded:           []string{"c", "y"},
		UnjustifiedRefunds: []string{"y"},
		UnchargedRefunds:   []string{"y"},
		Stock: []engine.StockBalance{
			{ProductID: 1, Initial: 10, Taken: 3, Restocked: 5, Current: 12},
			{ProductID: 2, Initial: 10, Taken: 3, Current: 6},
		},
	}
	accepted := map[string]bool{"a": true, "b": true, "c": true}
	d := checkDatabaseLedger(l, func(id string) bool { return accepted[id] })
	want := DatabaseLedger{Charges: 4, DoubleCharges: 1, Refunds: 2, RefundsWithoutFailure: 1, RefundsWithoutCharge: 1,
		UnacceptedCharges: 1, Products: 2, Unbalanced: 1}
	if d.Charges != want.Charges || d.DoubleCharges != want.DoubleCharges || d.Refunds != want.Refunds ||
		d.RefundsWithoutFailure != want.RefundsWithoutFailure || d.RefundsWithoutCharge != want.RefundsWithoutCharge ||
		d.UnacceptedCharges != want.UnacceptedCharges || d.Products != want.Products || d.Unbalanced != want.Unbalanced {
		t.Errorf("got %+v, want the counts of %+v", d, want)
	}
	if d.Problems() != 5 {
		t.Errorf("problems %d, want 5", d.Problems())
	}
	if len(d.UnacceptedChargeIDs) != 1 || d.UnacceptedChargeIDs[0] != "x" || len(d.Lines) != 1 || d.Lines[0].Product != 2 {
		t.Errorf("ids %v, lines %+v", d.UnacceptedChargeIDs, d.Lines)
	}
	lg := Ledger{DoubleCharges: 0, Database: d}
	if lg.DoubleChargesSeen() != 1 || lg.Problems() != 5 {
		t.Errorf("a double charge only the database saw: seen %d, problems %d", lg.DoubleChargesSeen(), lg.Problems())
	}
	text := strings.Join(lg.lines(0), "\n")
	for _, want := range []string{"DOUBLE CHARGES 1", "REFUNDS WITHOUT AN INVENTORY FAILURE 1", "CHARGES WITHOUT AN ACCEPTED ORDER 1",
		"UNBALANCED 1", "database: charged, never accepted: x"} {
		if !strings.Contains(text, want) {
			t.Errorf("the ledger lines lack %q:\n%s", want, text)
		}
	}
	if (&DatabaseLedger{Products: 3}).lines()[1] != "database stock: 3 products, all conserved (initial − taken + restocked = current)" {
		t.Errorf("a clean database ledger: %q", (&DatabaseLedger{Products: 3}).lines())
	}
}

// TestRunChecksTheDatabaseLedger: with the state in PostgreSQL, the
// report's ledger carries the database's own record — every charge,
// refund and stock take of the run, and none out of place.
func TestRunChecksTheDatabaseLedger(t *testing.T) {
	t.Parallel()
	pgtest.Require(t)
	st := pgtest.Open(t, pgtest.Namespace(t))
	sc := parse(t, `
name: ledger
seed: 5
stages:
  payment: {workers: 2, decline_rate: 0.1}
catalog: {products: 5, stock: 30}
orders: {product: {dist: zipf, s: 1.5}, quantity: {min: 1, max: 2}}
phases:
  - {duration: 2s, rate: 100/s}
thresholds:
  - {metric: double_charges, max: 0}
`)
	e := startEngineWith(t, sc, func(c *engine.Config) { c.State = st })
	rep := runScenario(t, Config{Scenario: sc, Engine: e, Driver: PublishDriver{P: e}})
	a := rep.Audit
	d := a.Ledger.Database
	if d == nil || d.Error != "" {
		t.Fatalf("no database ledger in the report: %+v", d)
	}
	if a.Refunded == 0 || a.PaymentFailed == 0 {
		t.Fatalf("audit %+v: want refunds (stock 30) and declines", a)
	}
	// Charged: every order that paid (confirmed, or refunded after); refunded: those out of stock.
	if d.Charges != a.Confirmed+a.Refunded || d.Refunds != a.Refunded {
		t.Errorf("database charges %d refunds %d; the audit has %d confirmed and %d refunded", d.Charges, d.Refunds, a.Confirmed, a.Refunded)
	}
	if d.Problems() != 0 || d.Products != 5 || !rep.Passed {
		t.Errorf("database ledger %+v (passed %v): want no fault over 5 products", d, rep.Passed)
	}
}
