package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"oms-sim/engine"
)

// DatabaseLedger is what the shared state's own tables say of the run
// (--state postgres://…): the same checks as the ledger from the events,
// made on the record the effects were written to, so a charge whose
// event was lost (its process was killed after the commit) still counts.
type DatabaseLedger struct {
	// Error says why the tables could not be read; the other fields are
	// then zero.
	Error string `json:"error,omitempty"`
	// Charges counts orders charged since the run began; DoubleCharges
	// those charged twice (none while the schema's key on the order
	// holds).
	Charges       int64 `json:"charges"`
	DoubleCharges int64 `json:"double_charges"`
	// Refunds counts refunds since the run began; RefundsWithoutFailure
	// those with no inventory.failed outcome in the inventory stage's
	// inbox, RefundsWithoutCharge those of orders never charged.
	Refunds               int64 `json:"refunds"`
	RefundsWithoutFailure int64 `json:"refunds_without_inventory_failure"`
	RefundsWithoutCharge  int64 `json:"refunds_without_charge"`
	// UnacceptedCharges counts charged orders the run never saw accepted
	// (nor answered indeterminate); they may be another client's orders
	// on the same namespace.
	UnacceptedCharges int64 `json:"charges_without_acceptance"`
	// Products counts the products with a stock account, Unbalanced
	// those where initial − taken + restocked ≠ current (restocks
	// included: the table records them).
	Products   int         `json:"products"`
	Unbalanced int         `json:"unbalanced"`
	Lines      []StockLine `json:"unbalanced_products,omitempty"`
	// Up to 20 orders behind each count.
	DoubleChargeIDs         []string `json:"double_charge_ids,omitempty"`
	RefundWithoutFailureIDs []string `json:"refund_without_inventory_failure_ids,omitempty"`
	UnacceptedChargeIDs     []string `json:"charge_without_acceptance_ids,omitempty"`
}

// Problems counts the database ledger's faults.
func (d *DatabaseLedger) Problems() int64 {
	if d == nil {
		return 0
	}
	return d.DoubleCharges + d.RefundsWithoutFailure + d.RefundsWithoutCharge + d.UnacceptedCharges + int64(d.Unbalanced)
}

// stateLedgerReader is an engine whose state keeps a ledger
// (engine.Engine with --state postgres://…).
type stateLedgerReader interface {
	StateLedger(ctx context.Context, since time.Time) (engine.StateLedger, bool, error)
}

// databaseLedger reads the shared state's ledger from since and checks it
// against what the run saw accepted; nil when the engine's state keeps
// none (memory).
func (r *Runner) databaseLedger(since time.Time) *DatabaseLedger {
	lr, ok := r.cfg.Engine.(stateLedgerReader)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, ok, err := lr.StateLedger(ctx, since)
	if !ok {
		return nil
	}
	if err != nil {
		return &DatabaseLedger{Error: fmt.Sprintf("reading the shared state's ledger: %v", err)}
	}
	return checkDatabaseLedger(l, r.track.acceptedOrRecovered)
}

// checkDatabaseLedger turns the tables' facts into the audit's counts;
// accepted says whether the run saw an order accepted (or answered
// indeterminate, and it ran).
func checkDatabaseLedger(l engine.StateLedger, accepted func(id string) bool) *DatabaseLedger {
	d := &DatabaseLedger{Charges: int64(len(l.Charged)), Refunds: int64(len(l.Refunded)), Products: len(l.Stock)}
	add := func(n *int64, ids *[]string, id string) {
		*n++
		if ids != nil && len(*ids) < maxIDs {
			*ids = append(*ids, id)
		}
	}
	for _, id := range l.DoubleCharged {
		add(&d.DoubleCharges, &d.DoubleChargeIDs, id)
	}
	for _, id := range l.UnjustifiedRefunds {
		add(&d.RefundsWithoutFailure, &d.RefundWithoutFailureIDs, id)
	}
	d.RefundsWithoutCharge = int64(len(l.UnchargedRefunds))
	for _, id := range l.Charged {
		if !accepted(id) {
			add(&d.UnacceptedCharges, &d.UnacceptedChargeIDs, id)
		}
	}
	for _, b := range l.Unbalanced() {
		d.Unbalanced++
		if len(d.Lines) < maxIDs {
			d.Lines = append(d.Lines, StockLine{Product: b.ProductID, Initial: b.Initial + b.Restocked, Taken: b.Taken, Current: b.Current})
		}
	}
	return d
}

// lines renders the database ledger for the text and Markdown reports.
func (d *DatabaseLedger) lines() []string {
	if d.Error != "" {
		return []string{"database: " + d.Error}
	}
	out := []string{
		fmt.Sprintf("database: charges %d · %s · refunds %d · %s · %s · %s", d.Charges, up(d.DoubleCharges, "double charges"),
			d.Refunds, up(d.RefundsWithoutFailure, "refunds without an inventory failure"), up(d.RefundsWithoutCharge, "refunds without a charge"),
			up(d.UnacceptedCharges, "charges without an accepted order")),
	}
	stock := fmt.Sprintf("database stock: %d products, all conserved (initial − taken + restocked = current)", d.Products)
	if d.Unbalanced > 0 {
		stock = fmt.Sprintf("database stock: %d products, UNBALANCED %d (initial − taken + restocked ≠ current)", d.Products, d.Unbalanced)
	}
	out = append(out, stock)
	for _, l := range []struct {
		name string
		ids  []string
	}{
		{"database: double charged", d.DoubleChargeIDs},
		{"database: refunded without an inventory failure", d.RefundWithoutFailureIDs},
		{"database: charged, never accepted", d.UnacceptedChargeIDs},
	} {
		if len(l.ids) > 0 {
			out = append(out, l.name+": "+strings.Join(l.ids, ", "))
		}
	}
	return out
}
