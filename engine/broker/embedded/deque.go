package embedded

// deque is a growable ring buffer: O(1) push and pop at both ends, so a long
// queue never pays for shifting a slice and a requeue to the head is cheap.
// The zero value is an empty deque ready to use.
type deque[T any] struct {
	buf  []T
	head int
	n    int
}

const dequeMinCap = 16

func (d *deque[T]) len() int { return d.n }

func (d *deque[T]) pushBack(v T) {
	d.grow()
	d.buf[(d.head+d.n)%len(d.buf)] = v
	d.n++
}

func (d *deque[T]) pushFront(v T) {
	d.grow()
	d.head = (d.head - 1 + len(d.buf)) % len(d.buf)
	d.buf[d.head] = v
	d.n++
}

func (d *deque[T]) front() (T, bool) {
	if d.n == 0 {
		var zero T
		return zero, false
	}
	return d.buf[d.head], true
}

func (d *deque[T]) popFront() (T, bool) {
	var zero T
	if d.n == 0 {
		return zero, false
	}
	v := d.buf[d.head]
	d.buf[d.head] = zero // let the garbage collector have it
	d.head = (d.head + 1) % len(d.buf)
	d.n--
	d.shrink()
	return v, true
}

// clear empties the deque, releases its buffer and returns how many elements
// it held.
func (d *deque[T]) clear() int {
	n := d.n
	*d = deque[T]{}
	return n
}

func (d *deque[T]) grow() {
	if d.n < len(d.buf) {
		return
	}
	d.resize(max(dequeMinCap, 2*len(d.buf)))
}

// shrink gives memory back after a burst has drained, keeping headroom so a
// queue hovering around one size does not resize on every operation.
func (d *deque[T]) shrink() {
	if len(d.buf) > dequeMinCap && d.n < len(d.buf)/4 {
		d.resize(max(dequeMinCap, len(d.buf)/2))
	}
}

func (d *deque[T]) resize(size int) {
	buf := make([]T, size)
	if d.n > 0 {
		if end := d.head + d.n; end <= len(d.buf) {
			copy(buf, d.buf[d.head:end])
		} else {
			k := copy(buf, d.buf[d.head:])
			copy(buf[k:], d.buf[:end-len(d.buf)])
		}
	}
	d.buf = buf
	d.head = 0
}
