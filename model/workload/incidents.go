package workload

import (
	"embed"
	"slices"
)

// The incident gallery: publicly reported hangs of bounded submission
// queues, each a workload file with a header comment saying what happened,
// the public reference and which fix it models. They are loaded by name,
// as the built-ins are, but have no sizes.
//
//go:embed incidents/*.wl
var incidentFiles embed.FS

// incidentNames lists the incidents in the order tables show them.
// Each naive design comes first, then the fixes that name it.
var incidentNames = []string{"envoy-listener", "zio-cancel", "zio-dropped-cancel", "zio-reserved-cancel",
	"glommio-queued", "glommio-staged", "glommio-before-park", "tokio-uring-overflow", "tokio-uring-getevents",
	"node-sass-pool", "node-sass-reserved", "ring-of-one", "ring-of-one-reserved", "ring-of-one-staged",
	"ring-of-one-flushed"}

// IncidentNames lists the incident workloads, in the order tables show
// them.
func IncidentNames() []string { return slices.Clone(incidentNames) }

// Incident returns the text of the incident workload name, and whether
// there is one.
func Incident(name string) (string, bool) {
	if !slices.Contains(incidentNames, name) {
		return "", false
	}
	b, err := incidentFiles.ReadFile("incidents/" + name + ".wl")
	if err != nil {
		return "", false
	}
	return string(b), true
}
