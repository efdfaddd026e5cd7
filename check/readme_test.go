package check_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeShowsTheExample holds the README's "Checking your own model"
// snippet to example_test.go: every line of it but the "// ..." that
// abridge it stands in the example, in the same order.
func TestReadmeShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Checking your own model")
	if !ok {
		t.Fatal("README has no section \"Checking your own model\"")
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the section has no Go snippet")
	}
	block, _, _ = strings.Cut(block, "```")
	lines := strings.Split(string(example), "\n")
	at := 0
	for _, want := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		if strings.TrimSpace(want) == "// ..." {
			continue
		}
		for at < len(lines) && strings.TrimRight(lines[at], " ") != strings.TrimRight(want, " ") {
			at++
		}
		if at == len(lines) {
			t.Fatalf("README line %q is not in example_test.go (in order)", want)
		}
		at++
	}
}

// TestAnotherModuleUsesCheck builds example_test.go as another module
// would: a module of its own that requires this one through a replace
// line, with no network. It runs the go command, so not under -short.
func TestAnotherModuleUsesCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command on a module of its own")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on the path")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/mine\n\ngo 1.26\n\nrequire github.com/sysmsg/sysmsg v0.0.0\n\nreplace github.com/sysmsg/sysmsg => " + root + "\n"
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.Replace(string(src), "package check_test", "package mine_test", 1))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine_test.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gobin, "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok  \texample.com/mine") {
		t.Fatalf("go test in a module of its own: %v\n%s", err, out)
	}
}
