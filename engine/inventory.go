package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
)

// inventory holds the product catalog: price and stock per product id.
// Taking stock is an atomic check-and-take.
type inventory struct {
	mu     sync.Mutex
	prices []int64 // index = product id - 1
	stock  []int
}

func newInventory(c Catalog) *inventory {
	inv := &inventory{prices: c.Prices(), stock: make([]int, c.Products)}
	for i := range inv.stock {
		inv.stock[i] = c.Stock
	}
	return inv
}

// Prices returns the catalog's unit prices in cents, index product id −
// 1: drawn from Seed, so every process with the same seed prices alike.
func (c Catalog) Prices() []int64 {
	r := rand.New(rand.NewPCG(c.Seed, 0x6f6d73))
	prices := make([]int64, max(c.Products, 0))
	for i := range prices {
		prices[i] = c.PriceMin
		if c.PriceMax > c.PriceMin {
			prices[i] += r.Int64N(c.PriceMax - c.PriceMin + 1)
		}
	}
	return prices
}

func (inv *inventory) known(id int) bool { return id >= 1 && id <= len(inv.prices) }

// price returns a product's unit price in cents, or false when unknown.
func (inv *inventory) price(id int) (int64, bool) {
	if !inv.known(id) {
		return 0, false
	}
	return inv.prices[id-1], true
}

// take removes qty of product id if that many are in stock.
func (inv *inventory) take(id, qty int) (left int, ok bool) {
	if !inv.known(id) {
		return 0, false
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.stock[id-1] < qty {
		return inv.stock[id-1], false
	}
	inv.stock[id-1] -= qty
	return inv.stock[id-1], true
}

// restock adds qty to product id, or to every product when id is 0. It
// changes nothing and returns an error when a product is unknown or would
// hold more than MaxStock.
func (inv *inventory) restock(id, qty int) error {
	if id != 0 && !inv.known(id) {
		return fmt.Errorf("restock: unknown product %d (valid: 0 for all, 1..%d)", id, len(inv.prices))
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	ids := []int{id}
	if id == 0 {
		ids = ids[:0]
		for i := range inv.stock {
			ids = append(ids, i+1)
		}
	}
	for _, i := range ids {
		if inv.stock[i-1] > MaxStock-qty {
			return fmt.Errorf("restock: product %d holds %d; adding %d would pass the most a product may hold, %d", i, inv.stock[i-1], qty, MaxStock)
		}
	}
	for _, i := range ids {
		inv.stock[i-1] += qty
	}
	return nil
}

// ProductStock is one product's line in the inventory listing.
type ProductStock struct {
	ProductID  int   `json:"product_id"`
	PriceCents int64 `json:"price_cents"`
	Stock      int   `json:"stock"`
}

func (inv *inventory) list() []ProductStock {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	out := make([]ProductStock, len(inv.stock))
	for i := range inv.stock {
		out[i] = ProductStock{ProductID: i + 1, PriceCents: inv.prices[i], Stock: inv.stock[i]}
	}
	return out
}

// newTakeStock handles payment.success, the inventory stage's one route:
// take the order's quantity, or send it back to payment for a refund.
func newTakeStock(env Env) Handler {
	return func(ctx context.Context, o Order) (Outcome, error) {
		left, ok, err := env.state.Take(ctx, o.OrderID, o.ProductID, o.Quantity)
		if err != nil {
			return Outcome{}, fmt.Errorf("take stock: %w", err) // transient: retried
		}
		if !ok {
			o.Reason = fmt.Sprintf("out of stock: wanted %d of product %d, %d left", o.Quantity, o.ProductID, left)
			return Next(o, KeyInventoryFailed, EventOutOfStock, o.Reason), nil
		}
		return Next(o, KeyInventoryUpdated, EventStockTaken, fmt.Sprintf("took %d of product %d, %d left", o.Quantity, o.ProductID, left)), nil
	}
}
