package run_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sysmsg/sysmsg/impl/run"
	"github.com/sysmsg/sysmsg/model"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
)

// TestSameSettingsAsTheModel: the same workload and the same --cap, --low
// and --policy give the same effective cap and low-water mark in the model
// and in a run, or are refused by both with the same error. (The model
// alone refuses caps above workload.MaxCapacity, which its encoding does
// not hold; the table stays below.)
func TestSameSettingsAsTheModel(t *testing.T) {
	const file = `pipe a
process app cap 4 low 3
  thread t
    write a
    read a
  end
end
process other
  thread u
    write a
  end
end
`
	w, err := workload.Parse("f.wl", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range spec.Policies() {
		for _, c := range []int{0, 1, 2, 3, 4, 5, workload.Unlimited} {
			for _, low := range []int{workload.Unset, -2, 0, 1, 2, 3, 4} {
				name := fmt.Sprintf("%s --cap %d --low %d", pol, c, low)
				m, merr := model.New(w, model.Config{Policy: pol, Cap: c, Low: low})
				r, rerr := run.Sim(w, run.Options{Policy: pol, Cap: c, Low: low, MaxSteps: 1})
				if (merr != nil) != (rerr != nil) {
					t.Errorf("%s: the model says %v, the run %v", name, merr, rerr)
					continue
				}
				if merr != nil {
					// The same refusal, in each command's words.
					var me, re *workload.SettingError
					if !errors.As(merr, &me) || !errors.As(rerr, &re) || me.Error() != re.Error() || !errors.Is(rerr, run.ErrRun) {
						t.Errorf("%s: the model says %v, the run %v", name, merr, rerr)
					}
					continue
				}
				for p := range w.Processes {
					if m.Cap(p) != r.Procs[p].Cap || m.Low(p) != r.Procs[p].Low {
						t.Errorf("%s: process %d: the model has cap %d low %d, the run cap %d low %d",
							name, p, m.Cap(p), m.Low(p), r.Procs[p].Cap, r.Procs[p].Low)
					}
				}
			}
		}
	}
}
