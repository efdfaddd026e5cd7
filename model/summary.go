package model

import (
	"slices"

	"github.com/sysmsg/sysmsg/check"
)

// GuardStatus is what a check found of one guard.
type GuardStatus string

const (
	// GuardReached: the guard held somewhere (a state guard) or its action
	// fired (an action guard).
	GuardReached GuardStatus = "reached"
	// GuardNever: a complete search that found nothing wrong never saw the
	// guard hold, so the verdict may hold only because this never happened.
	GuardNever GuardStatus = "never"
	// GuardNotSeen: the search stopped early (a bound, an interrupt or a
	// finding) before it saw the guard hold, which says nothing either way.
	GuardNotSeen GuardStatus = "not-seen-so-far"
)

// Guard is one guard of a [Summary]: a sometimes-property of a state, or an
// [ActionGuard] read off the firing counts.
type Guard struct {
	Name   string      `json:"name"`
	Status GuardStatus `json:"status"`
	// Kind is, for an action guard, the action kind whose firing it is;
	// empty for a state guard.
	Kind string `json:"kind,omitempty"`
	// Steps is, for a state guard reached, the length of a shortest trace
	// to a state where it holds.
	Steps int `json:"steps,omitempty"`
	// Transitions is, for an action guard, how many transitions the search
	// took of its kind.
	Transitions uint64 `json:"transitions,omitempty"`
}

// Summary is what a check of a [Model] found, interpreted once so that
// every command and viewer prints the same facts: the check's text and
// JSON, the sweep's cells. It is plain data, made by [Summarize].
type Summary struct {
	// Verdict is ok, violation or incomplete (its String is the word).
	Verdict check.Verdict
	// Outcome is the one word a table shows: the kind of the violation
	// when it is a deadlock or a livelock, else "violation" (an invariant,
	// a step invariant, a non-progress cycle: Property and Kind say which),
	// "ok" or "incomplete". These are the words of an expectations table
	// (workload.ReadExpectations).
	Outcome string
	// Property and Kind name the broken property and its kind, for a
	// violation; empty otherwise.
	Property, Kind string
	// Reason says why the search is incomplete; empty otherwise.
	Reason string
	// Checked lists the properties the check proved, in the order of
	// [Model.Properties] followed by no deadlock, no livelock and fair
	// progress: filled only for a complete search that found nothing
	// wrong. It assumes the check ran the livelock and fair-progress
	// passes, as every command runs them, except fair progress on a
	// model with the symmetry reduction and both with the partial-order
	// reduction (res.Stats.PartialOrder), which NotChecked names.
	Checked []string
	// NotChecked names, with the reason, a property the check left out:
	// fair progress on a symmetry-reduced model; livelock and fair
	// progress in a fingerprint search.
	NotChecked []string
	// Reduced describes the symmetry reduction in use: the groups of
	// copies it permutes; empty without one.
	Reduced []string
	// Guards has the state guards in declaration order, then the action
	// guards in [Model.ActionGuards] order.
	Guards []Guard
	// NeverFired lists the action kinds that never fired, in Kinds order,
	// only for a complete search that found nothing wrong: in a search cut
	// short, a kind not fired yet is no sign of anything.
	NeverFired []string
	// Stats are the search's figures.
	Stats check.Stats
}

// Summarize interprets res, the result of checking m. It does no I/O.
func Summarize(m *Model, res *check.Result[State, Action]) Summary {
	complete := res.Verdict == check.OK
	s := Summary{Verdict: res.Verdict, Outcome: res.Verdict.String(), Stats: res.Stats}
	if res.Verdict == check.Incomplete {
		s.Reason = res.Reason
	}
	if v := res.Violation; v != nil {
		s.Property, s.Kind = v.Property, v.Kind.String()
		switch v.Kind {
		case check.Deadlock, check.Livelock:
			s.Outcome = v.Kind.String()
		}
	}
	if complete {
		for _, p := range m.Properties() {
			if p.Kind != check.SometimesKind {
				s.Checked = append(s.Checked, p.Name)
			}
		}
		s.Checked = append(s.Checked, "no deadlock")
		if !res.Stats.PartialOrder {
			s.Checked = append(s.Checked, "no livelock")
			if !m.Reduced() {
				s.Checked = append(s.Checked, "fair progress")
			}
		}
		s.NeverFired = res.Stats.NeverFired()
	}
	switch {
	case res.Stats.Fingerprint:
		s.NotChecked = []string{"no livelock; fair progress (a fingerprint search keeps no graph of the states)"}
	case res.Stats.PartialOrder:
		s.NotChecked = []string{"no livelock; fair progress (the partial-order reduction keeps deadlocks and safety, not the cycles they need)"}
	case m.Reduced():
		s.NotChecked = []string{"fair progress (weak fairness names each actor, and the symmetry reduction permutes them: check without it)"}
	}
	if m.Reduced() {
		s.Reduced = m.Copies()
	}
	unseen := GuardNotSeen
	if complete {
		unseen = GuardNever
	}
	for _, r := range res.Sometimes {
		g := Guard{Name: r.Name, Status: unseen}
		if r.Reached {
			g.Status, g.Steps = GuardReached, len(r.Trace.Steps)
		}
		s.Guards = append(s.Guards, g)
	}
	for _, ag := range m.ActionGuards() {
		g := Guard{Name: ag.Name, Kind: ag.Kind, Status: unseen}
		if i := slices.IndexFunc(res.Stats.Fired, func(k check.KindCount) bool { return k.Kind == ag.Kind }); i >= 0 {
			g.Transitions = res.Stats.Fired[i].Count
		}
		if g.Transitions > 0 {
			g.Status = GuardReached
		}
		s.Guards = append(s.Guards, g)
	}
	return s
}
