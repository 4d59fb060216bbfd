package embedded

import "testing"

// TestDeque checks the ring buffer against a plain slice through growth,
// wrap-around, front pushes and shrinking.
func TestDeque(t *testing.T) {
	t.Parallel()
	var d deque[int]
	var model []int
	next := 0
	check := func(step int) {
		t.Helper()
		if d.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, d.len(), len(model))
		}
		if f, ok := d.front(); ok != (len(model) > 0) || (ok && f != model[0]) {
			t.Fatalf("step %d: front %d,%v; model %v", step, f, ok, model[:min(3, len(model))])
		}
	}
	for step := range 20000 {
		switch op := (step * 7919) % 10; {
		case op < 5:
			d.pushBack(next)
			model = append(model, next)
			next++
		case op < 6:
			d.pushFront(next)
			model = append([]int{next}, model...)
			next++
		default:
			v, ok := d.popFront()
			if ok != (len(model) > 0) {
				t.Fatalf("step %d: pop ok=%v with %d in model", step, ok, len(model))
			}
			if ok {
				if v != model[0] {
					t.Fatalf("step %d: popped %d, want %d", step, v, model[0])
				}
				model = model[1:]
			}
		}
		check(step)
	}
	for len(model) > 0 {
		v, _ := d.popFront()
		if v != model[0] {
			t.Fatalf("drain: popped %d, want %d", v, model[0])
		}
		model = model[1:]
	}
	if _, ok := d.popFront(); ok {
		t.Fatal("pop from empty deque succeeded")
	}
	if len(d.buf) > dequeMinCap {
		t.Errorf("buffer of %d not shrunk after draining", len(d.buf))
	}
	d.pushBack(1)
	if n := d.clear(); n != 1 || d.len() != 0 {
		t.Errorf("clear = %d, len %d", n, d.len())
	}
}
