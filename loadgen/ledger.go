package loadgen

import (
	"sort"
	"strconv"
	"strings"

	"oms-sim/engine"
)

// Ledger is the audit of what the orders did to money and stock (issue
// 17), from the lifecycle events of every process: the events reach the
// run through the event log whichever process, and whichever state
// (memory or PostgreSQL), did the work. A charge is a paid event; a
// duplicate delivery answered from a process's memory or from the shared
// inbox emits redelivered instead, and is not a charge.
type Ledger struct {
	// Charges counts paid events: every charge made, repeats included.
	Charges int64 `json:"charges"`
	// DoubleCharges counts orders charged more than once: a second paid
	// event, whether or not it was work done again after a crash
	// (redone). At-least-once delivery without shared state makes them;
	// --state postgres (one inbox for every process) does not.
	DoubleCharges int64 `json:"double_charges"`
	// DoubleTakes counts orders whose stock was taken more than once.
	DoubleTakes int64 `json:"double_takes"`
	// RefundsWithoutFailure counts orders refunded without an
	// out_of_stock for them: a refund must answer an inventory failure.
	RefundsWithoutFailure int64 `json:"refunds_without_out_of_stock"`
	// UnacceptedCharges counts orders charged that were never accepted:
	// neither to this run's driver nor by an API's accepted event. An
	// order answered indeterminate that ran anyway is counted under
	// recovered instead (the broker had it; the client was told 503).
	UnacceptedCharges int64 `json:"charges_without_acceptance"`
	// Redelivered counts duplicate deliveries answered without redoing
	// their work; InboxHits those of them answered from the shared inbox
	// (--state postgres) rather than from one process's memory.
	Redelivered int64 `json:"redelivered"`
	InboxHits   int64 `json:"inbox_hits"`
	// Up to 20 orders behind each count.
	DoubleChargeIDs         []string   `json:"double_charge_ids,omitempty"`
	DoubleTakeIDs           []string   `json:"double_take_ids,omitempty"`
	RefundWithoutFailureIDs []string   `json:"refund_without_out_of_stock_ids,omitempty"`
	UnacceptedChargeIDs     []string   `json:"charge_without_acceptance_ids,omitempty"`
	Stock                   StockAudit `json:"stock"`
	// Database is the shared state's own record (--state postgres://…),
	// checked the same way; absent with memory state.
	Database *DatabaseLedger `json:"database,omitempty"`
}

// DoubleChargesSeen is the double charges the events or the database
// show, whichever saw more (the threshold metric double_charges).
func (lg Ledger) DoubleChargesSeen() int64 {
	if lg.Database != nil {
		return max(lg.DoubleCharges, lg.Database.DoubleCharges)
	}
	return lg.DoubleCharges
}

// StockAudit checks that stock is conserved, per product: initial −
// taken + restocked = current. The events say what each take left
// ("took 2 of product 7, 95 left"), so the audit sees the stock each
// inventory process held. One stock shared by every process moves along
// one chain: its highest value before a take is the initial stock and
// its lowest value after one is the current stock, whatever order the
// events arrive in. Two processes with a stock each (--state memory,
// inventory in two processes), or a process that restarts with its stock
// reset, break the chain and the product is unbalanced.
type StockAudit struct {
	// Products is how many products the run saw taken or short.
	Products int `json:"products"`
	// Taken is the units taken, over every stock.taken event.
	Taken int64 `json:"taken"`
	// Checked products were not restocked during the run; Unbalanced of
	// them did not conserve their stock.
	Checked    int `json:"checked"`
	Unbalanced int `json:"unbalanced"`
	// Restocked products were restocked by the run's actions: the events
	// do not say when, so they are not checked here.
	Restocked int `json:"restocked"`
	// Lines are up to 20 unbalanced products.
	Lines []StockLine `json:"unbalanced_products,omitempty"`
}

// StockLine is one unbalanced product: Initial − Taken should be Current.
type StockLine struct {
	Product int   `json:"product"`
	Initial int64 `json:"initial"` // the highest stock seen before a take
	Taken   int64 `json:"taken"`
	Current int64 `json:"current"` // the lowest stock seen after a take
}

// maxIDs bounds each list of order ids in the audit.
const maxIDs = 20

// stockTally is what the run saw of one product's stock.
type stockTally struct {
	seen          bool
	before, after int64 // the highest stock before, the lowest after an event
	taken         int64
}

// observe folds one stock event in: what the stock was before it, and
// after.
func (s *stockTally) observe(before, after int64) {
	if !s.seen || before > s.before {
		s.before = before
	}
	if !s.seen || after < s.after {
		s.after = after
	}
	s.seen = true
	s.taken += before - after
}

// ledgerTally is the tracker's running count of what does not belong to
// one order: charges, redeliveries and stock.
type ledgerTally struct {
	charges, redelivered, inboxHits int64
	stock                           map[int]*stockTally
	restocked                       map[int]bool
	restockedAll                    bool
}

func newLedgerTally() ledgerTally {
	return ledgerTally{stock: map[int]*stockTally{}, restocked: map[int]bool{}}
}

// event counts ev's part in the ledger, for any order (ours or not):
// stock is shared with whoever else uses the pipeline.
func (l *ledgerTally) event(ev engine.Event) {
	switch ev.Type {
	case engine.EventPaid:
		l.charges++
	case engine.EventRedelivered:
		l.redelivered++
		if strings.Contains(strings.ToLower(ev.Detail), "inbox") {
			l.inboxHits++
		}
	case engine.EventStockTaken:
		if qty, product, left, ok := parseStock(ev.Detail, "took "); ok {
			l.product(product).observe(left+qty, left)
		}
	case engine.EventOutOfStock:
		if _, product, left, ok := parseStock(ev.Detail, "out of stock: wanted "); ok {
			l.product(product).observe(left, left)
		}
	}
}

func (l *ledgerTally) product(id int) *stockTally {
	s := l.stock[id]
	if s == nil {
		s = &stockTally{}
		l.stock[id] = s
	}
	return s
}

// parseStock reads "<prefix>Q of product P, L left" (the inventory
// stage's details, engine/inventory.go).
func parseStock(detail, prefix string) (qty int64, product int, left int64, ok bool) {
	rest, ok := strings.CutPrefix(detail, prefix)
	if !ok {
		return 0, 0, 0, false
	}
	q, rest, ok := strings.Cut(rest, " of product ")
	if !ok {
		return 0, 0, 0, false
	}
	p, rest, ok := strings.Cut(rest, ", ")
	if !ok {
		return 0, 0, 0, false
	}
	l, ok := strings.CutSuffix(rest, " left")
	if !ok {
		return 0, 0, 0, false
	}
	qv, err1 := strconv.ParseInt(q, 10, 64)
	pv, err2 := strconv.Atoi(p)
	lv, err3 := strconv.ParseInt(l, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || qv < 0 || pv < 1 {
		return 0, 0, 0, false
	}
	return qv, pv, lv, true
}

// stockAudit checks every product the run saw.
func (l *ledgerTally) stockAudit() StockAudit {
	var a StockAudit
	ids := make([]int, 0, len(l.stock))
	for id := range l.stock {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		s := l.stock[id]
		a.Products++
		a.Taken += s.taken
		if l.restockedAll || l.restocked[id] {
			a.Restocked++
			continue
		}
		a.Checked++
		if s.before-s.taken == s.after {
			continue
		}
		a.Unbalanced++
		if len(a.Lines) < maxIDs {
			a.Lines = append(a.Lines, StockLine{Product: id, Initial: s.before, Taken: s.taken, Current: s.after})
		}
	}
	return a
}

// orderLedger is what the audit keeps of one order for the ledger.
type orderLedger struct {
	takes      int
	outOfStock bool
	refunds    int
	// accepted: an API logged the order accepted (the broker confirmed
	// it), whether or not this run's driver heard so.
	accepted bool
}

// apply notes ev's part in the order's ledger.
func (o *orderLedger) apply(ev engine.Event) {
	switch ev.Type {
	case engine.EventAccepted:
		o.accepted = true
	case engine.EventStockTaken:
		o.takes++
	case engine.EventOutOfStock:
		o.outOfStock = true
	case engine.EventRefunded:
		o.refunds++
	}
}

// ledgerEvent says whether the tracker must keep ev for an order it does
// not know yet, for the ledger.
func ledgerEvent(typ string) bool {
	switch typ {
	case engine.EventAccepted, engine.EventStockTaken, engine.EventOutOfStock:
		return true
	}
	return false
}

// count adds one order to the ledger's per-order checks. driverAccepted:
// this run's driver was told the order was accepted; recovered: it was
// answered indeterminate and ran.
func (lg *Ledger) count(id string, o *tracked, driverAccepted, recovered bool) {
	add := func(n *int64, ids *[]string) {
		*n++
		if len(*ids) < maxIDs {
			*ids = append(*ids, id)
		}
	}
	if o.charges > 1 {
		add(&lg.DoubleCharges, &lg.DoubleChargeIDs)
	}
	if o.ledger.takes > 1 {
		add(&lg.DoubleTakes, &lg.DoubleTakeIDs)
	}
	if o.ledger.refunds > 0 && !o.ledger.outOfStock {
		add(&lg.RefundsWithoutFailure, &lg.RefundWithoutFailureIDs)
	}
	if o.charges > 0 && !driverAccepted && !recovered && !o.ledger.accepted {
		add(&lg.UnacceptedCharges, &lg.UnacceptedChargeIDs)
	}
}

// Problems counts the ledger's faults: double charges and takes, refunds
// without a failure, charges without an order, unbalanced products.
func (lg Ledger) Problems() int64 {
	return lg.DoubleCharges + lg.DoubleTakes + lg.RefundsWithoutFailure + lg.UnacceptedCharges + int64(lg.Stock.Unbalanced) + lg.Database.Problems()
}
