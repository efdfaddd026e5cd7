package model

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sysmsg/sysmsg/check"
	"github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// TestEncodingReencodes walks every reachable state of a few built-ins,
// capped and uncapped, and requires that decoding an encoding and encoding
// it again gives the same bytes and the same state: the visited set stores
// encodings only, so a lossy encoding merges different states silently.
// Each transition is also built by NextInto, which the explorer uses, and
// must be Next's.
func TestEncodingReencodes(t *testing.T) {
	for _, name := range workload.BuiltinNames() {
		for _, c := range []int{1, 2, workload.Unlimited} {
			m, err := New(builtin(t, name, workload.Params{}), Config{Policy: port.Poll, Cap: c, Low: workload.Unset})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			queue := m.Init()
			var into State
			for len(queue) > 0 {
				s := queue[0]
				queue = queue[1:]
				enc := m.Encode(nil, s)
				if seen[string(enc)] {
					continue
				}
				seen[string(enc)] = true
				back := m.Decode(enc)
				if again := m.Encode(nil, back); !bytes.Equal(again, enc) {
					t.Fatalf("%s cap %d: %x re-encodes as %x", name, c, enc, again)
				}
				if !reflect.DeepEqual(normalize(back), normalize(s)) {
					t.Fatalf("%s cap %d: %+v decodes as %+v", name, c, s, back)
				}
				for _, a := range m.Actions(s, nil) {
					n := m.Next(s, a)
					queue = append(queue, n)
					// NextInto, building in the storage of whatever
					// state it built last (with more or fewer
					// messages), must give Next's state and leave s
					// alone.
					into = m.NextInto(into, s, a)
					if got, want := m.Encode(nil, into), m.Encode(nil, n); !bytes.Equal(got, want) {
						t.Fatalf("%s cap %d: NextInto gives %x, Next %x", name, c, got, want)
					}
					if again := m.Encode(nil, s); !bytes.Equal(again, enc) {
						t.Fatalf("%s cap %d: NextInto changed its state %x to %x", name, c, enc, again)
					}
				}
			}
			_, r := run(t, m.w, Config{Policy: port.Poll, Cap: c, Low: workload.Unset}, check.Options{})
			if r.Stats.States != len(seen) {
				t.Errorf("%s cap %d: the walk saw %d states, the explorer %d", name, c, len(seen), r.Stats.States)
			}
		}
	}
}

// TestManySubmittedCallsRoundTrip: a thread with 260 submitted reads holds
// 260 messages at once, and then 260 results to wait for; both counts are
// past a byte. Every state on a run to the end must survive its encoding,
// and the run must end finished.
func TestManySubmittedCallsRoundTrip(t *testing.T) {
	src := `pipe p
process app cap unlimited
  thread t
    repeat 260
      submit read p
    end
    repeat 260
      wait
    end
  end
end
peer c
  repeat 260
    send p
  end
end
`
	w, err := workload.Parse("many", src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(w, Config{Policy: port.Poll, Low: workload.Unset})
	if err != nil {
		t.Fatal(err)
	}
	// Sends first, then the peer, then completions, then reaps, then
	// waits: the messages pile up to 260 and so do the results.
	rank := func(a Action) int {
		switch a.Kind {
		case SendCall:
			return 0
		case PeerStep:
			return 1
		case CompleteCall:
			return 2
		case ReapReply:
			return 3
		}
		return 4
	}
	s := m.Init()[0]
	maxMsgs, maxReady := 0, 0
	for steps := 0; ; steps++ {
		enc := m.Encode(nil, s)
		if back := m.Decode(enc); !reflect.DeepEqual(normalize(back), normalize(s)) {
			t.Fatalf("step %d: a state with %d messages and %d results decodes as one with %d and %d",
				steps, len(s.Msgs), s.Ready[0], len(back.Msgs), back.Ready[0])
		}
		maxMsgs, maxReady = max(maxMsgs, len(s.Msgs)), max(maxReady, int(s.Ready[0]))
		acts := m.Actions(s, nil)
		if len(acts) == 0 {
			break
		}
		best := acts[0]
		for _, a := range acts[1:] {
			if rank(a) < rank(best) {
				best = a
			}
		}
		s = m.Next(s, best)
	}
	if !m.Terminal(s) {
		t.Errorf("the run stops unfinished: %d messages, pc %d", len(s.Msgs), s.PC[0])
	}
	if maxMsgs != 260 || maxReady != 260 {
		t.Errorf("at most %d messages and %d results at once, want 260 and 260", maxMsgs, maxReady)
	}
}
