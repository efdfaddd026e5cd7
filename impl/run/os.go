package run

import (
	"errors"

	"sysmsg/model"
)

// OS runs w on the host kernel.
func OS(w *model.Workload, o Options) (*Result, error) { return nil, errors.New("todo") }
