package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sysmsg/sysmsg/impl/httpd"
	"github.com/sysmsg/sysmsg/impl/port"
	"github.com/sysmsg/sysmsg/impl/run"
	spec "github.com/sysmsg/sysmsg/model/port"
	"github.com/sysmsg/sysmsg/model/workload"
	"github.com/sysmsg/sysmsg/traces"
)

// cmdline is one command's flags, with the words its --help and its errors
// use. Every command parses its arguments through one, so that they all
// take -h, --help and help alike, take flags before and after positional
// arguments, and report a bad flag as one line on stderr.
type cmdline struct {
	*flag.FlagSet
	name     string // as typed after sysmsg: "check", "workload show"
	synopsis string // what follows the name in the usage line
	doc      string // what the command does, ending in a newline
	stdout   io.Writer
	stderr   io.Writer
	// bad is the last flag value refused, in the command's words: the
	// flag package's own message names the flag with one dash and wraps
	// the value's error in its own.
	bad error
}

func newCmdline(name, synopsis, doc string, stdout, stderr io.Writer) *cmdline {
	fs := flag.NewFlagSet("sysmsg "+name, flag.ContinueOnError)
	// Parse reports nothing itself: parse prints the one line.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdline{FlagSet: fs, name: name, synopsis: synopsis, doc: doc, stdout: stdout, stderr: stderr}
}

// isHelp reports whether arg asks for a command's usage.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help" || arg == "-help"
}

// parse parses args, whose flags may come before, between or after the
// positional arguments, and returns the positional ones (everything after
// "--" is one). It takes at most max of them. help, -h or --help prints
// the usage on stdout. The code is the exit code to stop with, or -1 to go
// on.
func (c *cmdline) parse(args []string, max int) (pos []string, code int) {
	c.VisitAll(func(f *flag.Flag) { f.Value = checkedValue{f.Value, f.Name, c} })
	if len(args) > 0 && args[0] == "help" {
		c.usage(c.stdout)
		return nil, exitOK
	}
	for {
		err := c.FlagSet.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			c.usage(c.stdout)
			return nil, exitOK
		case err != nil && c.bad != nil:
			return nil, c.fail(c.bad)
		case err != nil:
			return nil, c.failf("%v (see sysmsg %s --help)", err, c.name)
		}
		rest := c.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		// Go's flag package stops at the first argument that is not a
		// flag: take it, and go on with the flags after it.
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) > max {
		return nil, c.failf("unexpected argument %q (see sysmsg %s --help)", pos[max], c.name)
	}
	return pos, -1
}

// set reports whether the flag was given on the command line.
func (c *cmdline) set(name string) bool {
	given := false
	c.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// fail prints err as the command's one line on stderr and returns the exit
// code of bad usage or input.
func (c *cmdline) fail(err error) int {
	fmt.Fprintf(c.stderr, "sysmsg %s: %s\n", c.name, userText(err))
	return exitUsage
}

func (c *cmdline) failf(format string, args ...any) int {
	return c.fail(fmt.Errorf(format, args...))
}

// usage prints the synopsis, what the command does and its flags.
func (c *cmdline) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s", strings.TrimSpace("sysmsg "+c.name+" "+c.synopsis), c.doc)
	first := true
	c.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprint(w, "\nFlags:\n")
			first = false
		}
		inner := *f
		if v, ok := f.Value.(checkedValue); ok {
			inner.Value = v.Value
		}
		arg, text := flag.UnquoteUsage(&inner)
		if n, ok := inner.Value.(interface{ argName() string }); ok {
			arg = n.argName()
		}
		line := "  --" + f.Name
		if len(f.Name) == 1 {
			line = "  -" + f.Name // -o, as such flags are written
		}
		if arg != "" {
			line += " " + arg
		}
		if d := f.DefValue; d != "" && d != "0" && d != "0s" && d != "false" && !strings.Contains(text, "default") {
			text += " (default " + d + ")"
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, strings.ReplaceAll(text, "\n", "\n        "))
	})
}

// checkedValue is a flag's value as parse sees it: a value it refuses is
// kept, in the command's words, for the error line.
type checkedValue struct {
	flag.Value
	name string
	c    *cmdline
}

func (v checkedValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil {
		v.c.bad = fmt.Errorf("--%s %s: %s", v.name, quoteArg(s), valueHint(v.Value, err))
	}
	return err
}

func (v checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// valueHint says what a flag wants, for a value it refused. The flag
// package's own values say "parse error"; the command's say what they want.
func valueHint(v flag.Value, err error) string {
	if g, ok := v.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return "want true or false"
		case int, int64, uint, uint64:
			return "want a whole number"
		case float64:
			return "want a number"
		case time.Duration:
			return durationHint
		}
	}
	return userText(err)
}

const durationHint = "want a duration such as 5s, 10m or 1h30m"

// quoteArg quotes a value for an error line only when it needs it.
func quoteArg(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'") {
		return strconv.Quote(s)
	}
	return s
}

// sentinels are the errors, wrapped by what the packages return, whose
// text is a package's prefix and not the user's business: userText drops
// it where it opens a clause.
var sentinels = []error{workload.ErrWorkload, workload.ErrUnknownBuiltin, spec.ErrPolicy, workload.ErrSetting,
	run.ErrRun, port.ErrConfig, traces.ErrTrace, httpd.ErrListen}

// pkgPrefix is a package's name where it opens a clause of an error, as
// the packages write them ("model: cap 300 ..."): a user reads the
// command's name at the start of the line, not the package's.
var pkgPrefix = regexp.MustCompile(`(^|: )(?:(?:workload|model|check|run|trace|port|httpd|host|sched|sim): )+`)

// userText is an error's text as a command prints it: the packages'
// sentinels and prefixes left out.
func userText(err error) string {
	msg := err.Error()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			msg = strings.Replace(msg, s.Error()+": ", "", 1)
		}
	}
	return pkgPrefix.ReplaceAllString(msg, "$1")
}

// intFlag is an integer flag with a range, refused at parsing when out of
// it. max 0 is no upper bound.
type intFlag struct {
	p        *int
	min, max int
	// want, when not empty, says what the flag takes in place of the
	// range.
	want string
}

func newIntFlag(p *int, value, min, max int) *intFlag {
	*p = value
	return &intFlag{p: p, min: min, max: max}
}

func (f *intFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return strconv.Itoa(*f.p)
}

func (f *intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	switch {
	case (err != nil || n < f.min || f.max != 0 && n > f.max) && f.want != "":
		return errors.New(f.want)
	case err != nil && f.max == 0:
		return fmt.Errorf("want a whole number, %d or more", f.min)
	case err != nil:
		return fmt.Errorf("want a whole number from %d to %d", f.min, f.max)
	case n < f.min && f.max == 0:
		return fmt.Errorf("want %d or more", f.min)
	case n < f.min || f.max != 0 && n > f.max:
		return fmt.Errorf("want %d to %d", f.min, f.max)
	}
	*f.p = n
	return nil
}

func (f *intFlag) argName() string { return "N" }

// durationFlag is a duration flag that refuses a negative one, and a zero
// one too when positive is set.
type durationFlag struct {
	p        *time.Duration
	positive bool
}

func (f *durationFlag) String() string {
	if f == nil || f.p == nil {
		return "0s"
	}
	return f.p.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New(durationHint)
	case d < 0 || f.positive && d == 0:
		if f.positive {
			return errors.New("want a duration longer than 0, such as 5s")
		}
		return errors.New("want a duration of 0 or more, such as 5s")
	}
	*f.p = d
	return nil
}

func (f *durationFlag) argName() string { return "DURATION" }

// The caps the flags take: the model's limit for the commands that check,
// the implementation's for those that run.
const (
	maxModelCap = workload.MaxCapacity
	maxImplCap  = 1 << 20
)

// capValue is a --cap flag: a number up to max, or "unlimited"; 0 keeps
// the workload's own caps.
type capValue struct {
	n   int
	max int
}

func (c *capValue) String() string {
	if c == nil {
		return "0"
	}
	if c.n == workload.Unlimited {
		return "unlimited"
	}
	return strconv.Itoa(c.n)
}

func (c *capValue) Set(s string) error {
	if s == "unlimited" {
		c.n = workload.Unlimited
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > c.max {
		return fmt.Errorf("want a cap from 1 to %d, or unlimited", c.max)
	}
	c.n = n
	return nil
}

func (c *capValue) argName() string { return "N|unlimited" }

// capUsage is a --cap flag's help, with the range of the command and what
// it is when not given.
func capUsage(max int, def string) string {
	return fmt.Sprintf("in-flight messages per process: 1 to %d, or unlimited\n(default: %s)", max, def)
}

// policyValue is a --policy flag.
type policyValue spec.Policy

func (p *policyValue) String() string { return spec.Policy(*p).String() }
func (p *policyValue) Set(s string) error {
	v, err := spec.ParsePolicy(s)
	*p = policyValue(v)
	return err
}
func (p *policyValue) argName() string { return "POLICY" }

// bytesValue is a --memory flag: a size, or none for no bound.
type bytesValue struct {
	n    uint64
	none bool
}

func (b *bytesValue) String() string {
	if b == nil || b.n == 0 && !b.none {
		return ""
	}
	if b.none {
		return "none"
	}
	return strconv.FormatUint(b.n, 10)
}

func (b *bytesValue) Set(s string) error {
	if s == "none" {
		*b = bytesValue{none: true}
		return nil
	}
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = bytesValue{n: n}
	return nil
}

func (b *bytesValue) argName() string { return "SIZE" }

// parseBytes reads a size as people write it: a whole number with an
// optional unit, K, M, G or T, with or without B or iB, in either case.
// Every unit is a power of 1024: 1KB and 1KiB are both 1024 bytes.
func parseBytes(s string) (uint64, error) {
	bad := errors.New("want a size such as 512MiB, 512MB or 8G (K, M, G, T are powers of 1024), or none")
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(s[len(num):])
	shift := 0
	switch strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i") {
	case "":
		if unit == "i" || unit == "ib" {
			return 0, bad
		}
	case "k":
		shift = 10
	case "m":
		shift = 20
	case "g":
		shift = 30
	case "t":
		shift = 40
	default:
		return 0, bad
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > (1<<63)>>shift {
		return 0, bad
	}
	return n << shift, nil
}

// checkWritable reports whether a file can be written at path, before a
// search that may end by writing it: path is not a directory, and its
// directory takes a new file. It leaves nothing behind.
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory")
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".sysmsg-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("directory %s: %v", dir, pe.Err)
		}
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}
