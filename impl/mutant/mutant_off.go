//go:build !sysmsg_mutant

package mutant

// On reports whether bug b is switched on: never, without the build tag
// sysmsg_mutant. It is a constant false once inlined, so the seeded bugs'
// code is dropped from the normal build.
func On(Bug) bool { return false }
