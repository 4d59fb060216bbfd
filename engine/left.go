package engine

// LeftInBroker is what this process last knew of the orders waiting in
// the broker, for a process that exits without draining (a second
// signal): ready is the work queues' ready messages at the monitor's last
// poll (a quarter of a second old at most while the broker answers);
// unacked is the deliveries this process's workers hold unacknowledged,
// which the broker puts back in their queues when the process's
// connections close. Both are safe in the broker and finish on the next
// start. Messages waiting in the retry queues are not polled and not
// counted.
func (e *Engine) LeftInBroker() (ready, unacked int64) {
	ready = e.mon.ready.Load()
	for _, s := range e.stages {
		unacked += max(0, s.stats.inflight.Load())
	}
	return ready, unacked
}
