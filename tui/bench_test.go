package tui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// BenchmarkView renders the main screen at 140×45 with 10,000 orders in
// the store (the trace reads a page of them, as it does live).
func BenchmarkView(b *testing.B) {
	src := newFakeSource(10000)
	m := New(src, newFakeControl(), newFakeLoad(true), Options{ScenarioName: "burst", Now: fakeNow})
	next, _ := m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	m = next.(Model)
	next, _ = m.Update(m.Init()())
	m = next.(Model)
	if len(m.trace.rows) == 0 {
		b.Fatal("no orders loaded")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkPoll is one poll's Update against the same store: applying a
// snapshot and a page of 200 orders, and laying out.
func BenchmarkPoll(b *testing.B) {
	src := newFakeSource(10000)
	m := New(src, newFakeControl(), newFakeLoad(true), Options{ScenarioName: "burst", Now: fakeNow})
	next, _ := m.Update(tea.WindowSizeMsg{Width: 140, Height: 45})
	m = next.(Model)
	msg := m.Init()()
	b.ReportAllocs()
	for b.Loop() {
		next, _ = m.Update(msg)
		m = next.(Model)
		m.applied = 0
	}
}
