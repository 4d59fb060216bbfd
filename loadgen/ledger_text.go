package loadgen

import (
	"fmt"
	"strings"
)

// lines renders the ledger for the text and Markdown reports: one line
// per check, then the orders and products behind any fault. dropped is
// how many events the event log dropped (the ledger is then partial).
func (lg Ledger) lines(dropped int64) []string {
	out := []string{
		fmt.Sprintf("charges %d · %s · %s · %s · %s", lg.Charges, up(lg.DoubleCharges, "double charges"),
			up(lg.DoubleTakes, "double stock takes"), up(lg.RefundsWithoutFailure, "refunds without out_of_stock"),
			up(lg.UnacceptedCharges, "charges without an accepted order")),
		fmt.Sprintf("redelivered %d (answered without redoing the work) · from the shared inbox %d", lg.Redelivered, lg.InboxHits),
		lg.Stock.Line(),
	}
	if dropped > 0 {
		out = append(out, fmt.Sprintf("the event log dropped %d events: the ledger is partial", dropped))
	}
	if lg.Database != nil {
		out = append(out, lg.Database.lines()...)
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{
		{"double charged", lg.DoubleChargeIDs},
		{"stock taken twice", lg.DoubleTakeIDs},
		{"refunded without out_of_stock", lg.RefundWithoutFailureIDs},
		{"charged, never accepted", lg.UnacceptedChargeIDs},
	} {
		if len(l.ids) > 0 {
			out = append(out, l.name+": "+strings.Join(l.ids, ", "))
		}
	}
	if len(lg.Stock.Lines) > 0 {
		var parts []string
		for _, s := range lg.Stock.Lines {
			parts = append(parts, s.String())
		}
		out = append(out, "unbalanced: "+strings.Join(parts, "; "))
	}
	return out
}

// Line sums up the stock check.
func (s StockAudit) Line() string {
	if s.Products == 0 {
		return "stock: no stock taken or short during the run"
	}
	text := fmt.Sprintf("stock: %d products, %d units taken · %d checked", s.Products, s.Taken, s.Checked)
	if s.Unbalanced > 0 {
		text += fmt.Sprintf(", UNBALANCED %d (initial − taken ≠ current: more than one stock, or one that was reset)", s.Unbalanced)
	} else if s.Checked > 0 {
		text += ", all conserved (initial − taken = current)"
	}
	if s.Restocked > 0 {
		text += fmt.Sprintf(" · %d restocked by the run, not checked", s.Restocked)
	}
	return text
}

// String shows the product's sum, e.g. "product 7: 100 − 12 = 88, seen 93".
func (l StockLine) String() string {
	return fmt.Sprintf("product %d: %d − %d = %d, seen %d", l.Product, l.Initial, l.Taken, l.Initial-l.Taken, l.Current)
}

// up names a count, in capitals when it is a fault (not zero).
func up(n int64, name string) string {
	if n > 0 {
		return fmt.Sprintf("%s %d", strings.ToUpper(name), n)
	}
	return fmt.Sprintf("%s %d", name, n)
}
