package properties_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// drawCopies draws a workload made of copies: a unit (one or two objects,
// one or two threads of process app, a peer when the unit has a conn) is
// written 2 or 3 times with its names numbered, beside an optional thread
// of its own, so that the symmetry reduction has copies to find. The
// unit's operations are drawn as genWorkload's are: reads, writes,
// submits and closes of its objects, a wait where a submit is left, a
// cancel of the unit's other thread.
func drawCopies(t *rapid.T) string {
	var unit strings.Builder
	kinds := []string{"pipe", "conn"}
	nobj := rapid.IntRange(1, 2).Draw(t, "objects")
	var objs []string
	hasConn := false
	for i := range nobj {
		k := kinds[rapid.IntRange(0, 1).Draw(t, "kind")]
		hasConn = hasConn || k == "conn"
		objs = append(objs, fmt.Sprintf("o%d_@", i))
		fmt.Fprintf(&unit, "%s o%d_@ capacity %d\n", k, i, rapid.IntRange(1, 2).Draw(t, "capacity"))
	}
	// A shared pipe that every copy may use alike: copies around a hub.
	hub := rapid.Bool().Draw(t, "hub")
	nth := rapid.IntRange(1, 2).Draw(t, "threads")
	var threads strings.Builder
	for i := range nth {
		fmt.Fprintf(&threads, "  thread t%d_@\n", i)
		pending := 0
		for range rapid.IntRange(1, 4).Draw(t, "operations") {
			o := objs[rapid.IntRange(0, len(objs)-1).Draw(t, "object")]
			ops := []string{"read " + o, "write " + o, "submit read " + o, "submit write " + o, "close " + o}
			if hub {
				ops = append(ops, "read hub", "write hub")
			}
			if pending > 0 {
				ops = append(ops, "wait")
			}
			if nth == 2 {
				ops = append(ops, fmt.Sprintf("cancel t%d_@", 1-i))
			}
			op := ops[rapid.IntRange(0, len(ops)-1).Draw(t, "operation")]
			switch {
			case strings.HasPrefix(op, "submit"):
				pending++
			case op == "wait":
				pending--
			}
			fmt.Fprintf(&threads, "    %s\n", op)
		}
		threads.WriteString("  end\n")
	}
	var peer strings.Builder
	if hasConn && rapid.Bool().Draw(t, "peer") {
		peer.WriteString("peer p_@\n")
		for range rapid.IntRange(1, 3).Draw(t, "peer operations") {
			o := objs[rapid.IntRange(0, len(objs)-1).Draw(t, "peer object")]
			peer.WriteString("  " + []string{"send ", "recv "}[rapid.IntRange(0, 1).Draw(t, "peer op")] + o + "\n")
		}
		peer.WriteString("end\n")
	}
	copies := rapid.IntRange(2, 3).Draw(t, "copies")
	var b strings.Builder
	for c := range copies {
		b.WriteString(strings.ReplaceAll(unit.String(), "@", fmt.Sprint(c)))
	}
	if hub {
		b.WriteString("pipe hub capacity 2\n")
	}
	own := rapid.Bool().Draw(t, "own thread")
	if own {
		b.WriteString("pipe own capacity 1\n")
	}
	fmt.Fprintf(&b, "process app cap %s\n", []string{"1", "2", "3", "unlimited"}[rapid.IntRange(0, 3).Draw(t, "cap")])
	for c := range copies {
		b.WriteString(strings.ReplaceAll(threads.String(), "@", fmt.Sprint(c)))
	}
	if own {
		b.WriteString("  thread solo\n    write own\n    read own\n  end\n")
	}
	b.WriteString("end\n")
	for c := range copies {
		b.WriteString(strings.ReplaceAll(peer.String(), "@", fmt.Sprint(c)))
	}
	return b.String()
}

// symmetryAgrees is the property of TestSymmetryAgreesOnCopies: on a drawn
// workload of copies, under a drawn policy, the reduced search and the
// full one (both with the livelock pass) give the same verdict and break
// the same property, with a counterexample of the same length outside a
// livelock; the reduced counterexample replays in the full model and ends
// as it says.
func symmetryAgrees(t *rapid.T) {
	text := rapid.Custom(drawCopies).Draw(t, "workload")
	pol := rapid.SampledFrom(spec.Policies()).Draw(t, "policy")
	w, err := workload.Parse("copies.wl", text)
	if err != nil {
		t.Fatalf("the generator drew a workload the parser refuses: %v\n%s", err, text)
	}
	full, err := model.New(w, model.Config{Policy: pol, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	red, err := model.New(w, model.Config{Policy: pol, Low: workload.Unset, Symmetry: true})
	if err != nil {
		t.Fatal(err)
	}
	if !red.Reduced() {
		t.Fatalf("no copies found in\n%s", text)
	}
	opt := check.Options{Livelock: true, MaxStates: 50_000, Workers: 1}
	rf, err := check.Explore(context.Background(), full, opt)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := check.Explore(context.Background(), red, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Verdict == check.Incomplete || rr.Verdict == check.Incomplete {
		t.Skip("too big to compare")
	}
	if rf.Verdict != rr.Verdict {
		t.Fatalf("full %v, reduced %v\n%s", rf.Verdict, rr.Verdict, text)
	}
	if rr.Stats.States > rf.Stats.States {
		t.Fatalf("%d states reduced, %d in full", rr.Stats.States, rf.Stats.States)
	}
	vf, vr := rf.Violation, rr.Violation
	if vf == nil {
		return
	}
	if vf.Property != vr.Property || vf.Kind != vr.Kind {
		t.Fatalf("full breaks %q (%v), reduced %q (%v)\n%s", vf.Property, vf.Kind, vr.Property, vr.Kind, text)
	}
	if vf.Kind != check.Livelock && len(vf.Trace.Steps) != len(vr.Trace.Steps) {
		t.Fatalf("a counterexample of %d steps in full, %d reduced", len(vf.Trace.Steps), len(vr.Trace.Steps))
	}
	path := []int{vr.Trace.Init}
	for _, s := range vr.Trace.Steps {
		path = append(path, s.Index)
	}
	re, err := check.Replay[model.State, model.Action](full, path)
	if err != nil {
		t.Fatalf("the reduced counterexample does not replay in full: %v", err)
	}
	last := re.States[len(re.States)-1]
	switch vr.Kind {
	case check.Deadlock:
		if len(full.Actions(last, nil)) > 0 || full.Terminal(last) {
			t.Fatal("the deadlock's last state can move in full, or is terminal")
		}
	case check.Livelock:
		if !bytes.Equal(full.EncodeExact(nil, re.States[vr.Trace.Loop]), full.EncodeExact(nil, last)) {
			t.Fatal("the lasso's cycle does not come back to its real state")
		}
	case check.Invariant, check.StepInvariant:
		i := slices.IndexFunc(full.Properties(), func(p check.Property[model.State, model.Action]) bool { return p.Name == vr.Property })
		if i < 0 {
			t.Fatalf("no property %q", vr.Property)
		}
		p, n := full.Properties()[i], len(re.Steps)
		if vr.Kind == check.Invariant && p.State(last) || vr.Kind == check.StepInvariant && (n == 0 || p.Step(re.States[n-1], re.Steps[n-1].Action, last)) {
			t.Fatalf("%q holds at the end of its counterexample in full", vr.Property)
		}
	}
}

// TestSymmetryAgreesOnCopies holds the symmetry reduction to the full
// search on drawn workloads of copies: the reduction's differential check,
// beside TestSymmetryAgrees on the built-ins and the incidents in model/.
func TestSymmetryAgreesOnCopies(t *testing.T) {
	rapid.Check(t, symmetryAgrees)
}
