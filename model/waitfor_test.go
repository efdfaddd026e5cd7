package model

import (
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// The cycle of waits that a deadlock's explanation starts with, pinned for
// the seed's story and the triangle: the words a reader reads first.
func TestWaitStory(t *testing.T) {
	cases := []struct {
		workload string
		policy   port.Policy
		want     string
	}{
		{"webserver", port.Block, "w0 needs a slot for write(c0), but all 2 slots of server are taken → a slot of server is held by r0's read(c0) → r0's read(c0) waits in the kernel until client0 sends on c0 → client0 waits to receive from c0 until w0 writes c0 → back to w0"},
		{"webserver", port.Stop, "w0 wants write(c0), but server issues nothing until in-flight <= 0 → a slot of server is held by r0's read(c0) → r0's read(c0) waits in the kernel until client0 sends on c0 → client0 waits to receive from c0 until w0 writes c0 → back to w0"},
		{"triangle", port.Block, "w needs a slot for write(a), but all 2 slots of app are taken → a slot of app is held by ra's read(a) → ra's read(a) waits in the kernel until w writes a → back to w"},
		{"pipeline", port.Block, "s1 needs a slot for read(p0), but all 2 slots of stages are taken → a slot of stages is held by s2's read(p1) → s2's read(p1) waits in the kernel until s1 writes p1 → back to s1"},
	}
	for _, c := range cases {
		m, r := run(t, builtin(t, c.workload, workload.Params{}), Config{Policy: c.policy, Cap: 2, Low: workload.Unset}, check.Options{})
		if r.Verdict != check.Violated || r.Violation.Kind != check.Deadlock {
			t.Fatalf("%s %v: %v, want a deadlock", c.workload, c.policy, r.Verdict)
		}
		states := r.Violation.Trace.States
		last := states[len(states)-1]
		if got := m.WaitStory(last); got != "a cycle of waits: "+c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.workload, c.policy, got, c.want)
		}
		if ex := r.Violation.Explain; len(ex) == 0 || ex[0] != "in short, a cycle of waits: "+c.want {
			t.Errorf("%s %v: the explanation does not start with the cycle: %q", c.workload, c.policy, ex)
		}
		// Where everyone can still move, no one waits in a cycle.
		if got := m.WaitStory(states[0]); got != "" {
			t.Errorf("%s %v: a cycle of waits in the initial state: %s", c.workload, c.policy, got)
		}
	}
}

// Where no cycle keeps the waiting going, a chain does that ends where no
// thread or peer will ever act: zio's cancel waits for a slot held by the
// read it would end, on a peer that never replies.
func TestWaitChain(t *testing.T) {
	w, _ := load(t, "zio-cancel")
	m, r := run(t, w, Config{Policy: port.Block, Cap: 2, Low: workload.Unset}, check.Options{})
	if r.Verdict != check.Violated || r.Violation.Kind != check.Deadlock {
		t.Fatalf("%v, want a deadlock", verdict(r))
	}
	states := r.Violation.Trace.States
	want := "a chain of waits that ends nowhere: timeout0 needs a slot for cancel(t0), but all 2 slots of client are taken → a slot of client is held by t0's read(s0) → t0's read(s0) waits in the kernel until someone puts an item on s0, which no thread or peer will ever do"
	if got := m.WaitStory(states[len(states)-1]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
