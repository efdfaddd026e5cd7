package sched

// Queue is a bounded user-level queue between threads of one process. Push
// and Pop are not system calls: they take no slot, and a thread waits in
// userland while the queue is full (Push) or empty (Pop).
type Queue[T any] struct {
	name    string
	buf     []T // a ring of fixed capacity, so that steady use does not allocate
	head, n int
	pushers []*Thread
	poppers []*Thread

	pushing, popping string // for dumps, made once
}

// NewQueue makes a queue that holds up to capacity items (at least 1).
func NewQueue[T any](name string, capacity int) *Queue[T] {
	return &Queue[T]{name: name, buf: make([]T, max(capacity, 1)), pushing: "push " + name, popping: "pop " + name}
}

// Len is the number of items queued.
func (q *Queue[T]) Len() int { return q.n }

// Push appends v, waiting while the queue is full. t is the running thread.
func (q *Queue[T]) Push(t *Thread, v T) {
	t.doing = q.pushing
	for q.n == len(q.buf) {
		q.pushers = append(q.pushers, t)
		t.park(UserWait)
	}
	t.doing = ""
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
	t.s.progress++
	q.poppers = wakeOne(t.s, q.poppers)
}

// Pop takes the oldest item, waiting while the queue is empty. t is the
// running thread.
func (q *Queue[T]) Pop(t *Thread) T {
	t.doing = q.popping
	for q.n == 0 {
		q.poppers = append(q.poppers, t)
		t.park(UserWait)
	}
	t.doing = ""
	v, _ := q.TryPop(t)
	return v
}

// TryPop takes the oldest item if there is one, without waiting.
func (q *Queue[T]) TryPop(t *Thread) (T, bool) {
	var zero T
	if q.n == 0 {
		return zero, false
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	t.s.progress++
	q.pushers = wakeOne(t.s, q.pushers)
	return v, true
}

// wakeOne makes the first waiter runnable: it re-checks the queue when it
// runs, so one item or one free place wakes one waiter.
func wakeOne(s *Scheduler, ws []*Thread) []*Thread {
	if len(ws) == 0 {
		return ws
	}
	s.ready(ws[0])
	n := copy(ws, ws[1:])
	ws[n] = nil
	return ws[:n]
}
