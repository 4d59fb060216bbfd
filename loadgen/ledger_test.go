package loadgen

import (
	"slices"
	"strings"
	"testing"
	"time"

	"oms-sim/engine"
)

// ledgerEv is an event of order id at t0 + 1 ms.
func ledgerEv(id, typ, detail string, redone bool) engine.Event {
	return engine.Event{OrderID: id, Type: typ, Detail: detail, Redone: redone, Time: time.Unix(1, 0)}
}

// TestLedgerDoubleCharges: a second paid event is a double charge,
// redone or not; a repeat answered from memory or the inbox (redelivered)
// is not a charge.
func TestLedgerDoubleCharges(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	for _, id := range []string{"once", "twice", "redone", "inbox"} {
		tr.accepted(id, time.Unix(0, 0))
	}
	feed := []engine.Event{
		ledgerEv("once", engine.EventPaid, "charged $1.00", false),
		ledgerEv("once", engine.EventConfirmed, "", false),
		ledgerEv("twice", engine.EventPaid, "charged $1.00", false),
		ledgerEv("twice", engine.EventPaid, "charged $1.00", false),
		ledgerEv("twice", engine.EventConfirmed, "", false),
		// kill -9 after the charge, before the ack: the other payment
		// process, with no memory of it, charges again.
		ledgerEv("redone", engine.EventPaid, "charged $1.00", false),
		ledgerEv("redone", engine.EventPaid, "charged $1.00", true),
		ledgerEv("redone", engine.EventConfirmed, "", true),
		// the same redelivery answered from the shared inbox
		ledgerEv("inbox", engine.EventPaid, "charged $1.00", false),
		ledgerEv("inbox", engine.EventRedelivered, "duplicate order.created delivery answered from the inbox", false),
		ledgerEv("inbox", engine.EventRedelivered, "duplicate order.created delivery; outcome repeated, work not redone", false),
		ledgerEv("inbox", engine.EventConfirmed, "", false),
		// an early paid twice, before the driver heard the order back
		ledgerEv("early", engine.EventPaid, "charged $1.00", false),
		ledgerEv("early", engine.EventPaid, "charged $1.00", true),
	}
	for _, ev := range feed {
		tr.onEvent(ev)
	}
	tr.accepted("early", time.Unix(0, 0))
	tr.onEvent(ledgerEv("early", engine.EventConfirmed, "", false))

	lg := tr.audit().Ledger
	if lg.Charges != 8 || lg.DoubleCharges != 3 || lg.Redelivered != 2 || lg.InboxHits != 1 {
		t.Errorf("ledger %+v: want 8 charges, 3 orders double charged, 2 redelivered of which 1 from the inbox", lg)
	}
	if want := []string{"early", "redone", "twice"}; !slices.Equal(lg.DoubleChargeIDs, want) {
		t.Errorf("double charged %v, want %v", lg.DoubleChargeIDs, want)
	}
	if lg.UnacceptedCharges != 0 || lg.RefundsWithoutFailure != 0 || lg.DoubleTakes != 0 {
		t.Errorf("ledger %+v: only double charges expected", lg)
	}
}

// TestLedgerRefundsAndAcceptance: a refund needs an out_of_stock for its
// order (in whatever order the two processes' events arrive); a charge
// needs an order accepted to the driver or by an API.
func TestLedgerRefundsAndAcceptance(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	for _, id := range []string{"refund-ok", "refund-late", "refund-bare"} {
		tr.accepted(id, time.Unix(0, 0))
	}
	for _, ev := range []engine.Event{
		ledgerEv("refund-ok", engine.EventPaid, "", false),
		ledgerEv("refund-ok", engine.EventOutOfStock, "out of stock: wanted 2 of product 1, 1 left", false),
		ledgerEv("refund-ok", engine.EventRefunded, "", false),
		// the refund's event arrives before the inventory's
		ledgerEv("refund-late", engine.EventPaid, "", false),
		ledgerEv("refund-late", engine.EventRefunded, "", false),
		ledgerEv("refund-late", engine.EventOutOfStock, "out of stock: wanted 3 of product 1, 1 left", false),
		ledgerEv("refund-bare", engine.EventPaid, "", false),
		ledgerEv("refund-bare", engine.EventRefunded, "", false),
		// charged and ended, never accepted to anyone
		ledgerEv("stranger", engine.EventPaid, "", false),
		ledgerEv("stranger", engine.EventConfirmed, "", false),
		// another load source's order: its API logged it accepted
		ledgerEv("theirs", engine.EventAccepted, "", false),
		ledgerEv("theirs", engine.EventPaid, "", false),
		ledgerEv("theirs", engine.EventConfirmed, "", false),
		// answered 503, ran anyway: recovered, not an unaccepted charge
		ledgerEv("rec", engine.EventIndeterminate, "", false),
		ledgerEv("rec", engine.EventPaid, "", false),
		ledgerEv("rec", engine.EventConfirmed, "", false),
		// charged, not (yet) ended, never accepted
		ledgerEv("hanging", engine.EventPaid, "", false),
	} {
		tr.onEvent(ev)
	}
	a := tr.audit()
	lg := a.Ledger
	if lg.RefundsWithoutFailure != 1 || !slices.Equal(lg.RefundWithoutFailureIDs, []string{"refund-bare"}) {
		t.Errorf("refunds without out_of_stock %d %v, want refund-bare only", lg.RefundsWithoutFailure, lg.RefundWithoutFailureIDs)
	}
	if lg.UnacceptedCharges != 2 || !slices.Equal(lg.UnacceptedChargeIDs, []string{"hanging", "stranger"}) {
		t.Errorf("charges without acceptance %d %v, want hanging and stranger", lg.UnacceptedCharges, lg.UnacceptedChargeIDs)
	}
	if a.Recovered != 1 || a.Orphaned != 2 {
		t.Errorf("recovered %d orphaned %d, want 1 and 2 (stranger, theirs)", a.Recovered, a.Orphaned)
	}
	if lg.DoubleCharges != 0 {
		t.Errorf("double charges %d, want 0", lg.DoubleCharges)
	}
}

// TestLedgerStock: one stock shared by every process conserves itself
// whatever order its events arrive in; two stocks (memory state,
// inventory in two processes) or a reset do not; a product the run
// restocked is not checked; a second take for one order is counted.
func TestLedgerStock(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	tr.accepted("a", time.Unix(0, 0))
	take := func(id, detail string) { tr.onEvent(ledgerEv(id, engine.EventStockTaken, detail, false)) }
	// Product 1, one stock of 100: 100 → 98 → 95 → 94, events out of order.
	take("x1", "took 3 of product 1, 95 left")
	take("x2", "took 2 of product 1, 98 left")
	take("x3", "took 1 of product 1, 94 left")
	tr.onEvent(ledgerEv("x4", engine.EventOutOfStock, "out of stock: wanted 200 of product 1, 94 left", false))
	// Product 2, two processes with a stock of 50 each.
	take("y1", "took 1 of product 2, 49 left")
	take("y2", "took 2 of product 2, 48 left")
	take("y3", "took 4 of product 2, 44 left")
	// Product 3: a process restarted with its stock reset to 10.
	take("z1", "took 5 of product 3, 5 left")
	take("z2", "took 1 of product 3, 9 left")
	// Product 4: restocked by the run, not checked.
	take("w1", "took 1 of product 4, 9 left")
	tr.restocked(4)
	take("w2", "took 1 of product 4, 108 left")
	// Order "a" had its stock taken twice (product 5).
	take("a", "took 1 of product 5, 9 left")
	take("a", "took 1 of product 5, 8 left")
	// Details the audit cannot read are ignored.
	take("v1", "took some of product 6")
	take("v2", "took 1 of product x, 3 left")

	lg := tr.audit().Ledger
	st := lg.Stock
	if st.Products != 5 || st.Checked != 4 || st.Restocked != 1 || st.Unbalanced != 2 || st.Taken != 6+7+6+2+2 {
		t.Fatalf("stock audit %+v: want 5 products, 4 checked, 1 restocked, 2 unbalanced, 23 taken", st)
	}
	want := []StockLine{{Product: 2, Initial: 50, Taken: 7, Current: 44}, {Product: 3, Initial: 10, Taken: 6, Current: 5}}
	if !slices.Equal(st.Lines, want) {
		t.Errorf("unbalanced %+v, want %+v", st.Lines, want)
	}
	if lg.DoubleTakes != 1 || !slices.Equal(lg.DoubleTakeIDs, []string{"a"}) {
		t.Errorf("double takes %d %v, want order a", lg.DoubleTakes, lg.DoubleTakeIDs)
	}
	if got := want[0].String(); got != "product 2: 50 − 7 = 43, seen 44" {
		t.Errorf("line %q", got)
	}
}

// TestLedgerInReport: the text, Markdown and HTML reports show the
// ledger and name what is wrong; double_charges is a threshold metric.
func TestLedgerInReport(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	rep.Audit.Ledger = Ledger{Charges: 12, DoubleCharges: 2, DoubleChargeIDs: []string{"dc-1", "dc-2"}, Redelivered: 3, InboxHits: 1,
		Stock: StockAudit{Products: 3, Taken: 20, Checked: 3, Unbalanced: 1, Lines: []StockLine{{Product: 2, Initial: 50, Taken: 7, Current: 44}}}}
	page, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": rep.Text(), "markdown": rep.Markdown(), "html": page} {
		for _, want := range []string{"dc-1, dc-2", "product 2: 50 − 7 = 43, seen 44", "UNBALANCED 1"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q", name, want)
			}
		}
	}
	if !strings.Contains(rep.Text(), "DOUBLE CHARGES 2") || !strings.Contains(rep.Text(), "from the shared inbox 1") {
		t.Errorf("text report:\n%s", rep.Text())
	}
	if v, shown := rep.metric("double_charges"); v != 2 || shown != "2" {
		t.Errorf("double_charges = %v (%q), want 2", v, shown)
	}
}
