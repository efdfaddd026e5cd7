package traces

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// NewPage is a pure function of the views: pinned here by deep comparison.
func TestNewPage(t *testing.T) {
	got := NewPage([]NamedView{{"all steps", NewView(sample())}}, "")
	want := Page{
		Title: "pipe triangle — policy stop, cap 2, low 0: DEADLOCK after 2 steps",
		Views: []PageView{{
			Name:    "all steps",
			Heading: "pipe triangle", Verdict: "DEADLOCK after 2 steps", Config: "policy stop, cap 2, low 0",
			Notes:  []string{"found after 11 states, 15 transitions, depth 2"},
			Actors: []string{"ra", "rb", "scheduler", "kernel"},
			Slots:  []string{"app slots"},
			Rows: []PageRow{
				{Step: 1, Actor: 0, With: 3, Who: "ra", Text: "sends read(a)",
					Slots: []Slot{{Text: "1/2", Changed: true}},
					Set:   []int{0, 2}, Values: []string{"1/2", "parked on read(a)"}},
				{Step: 2, Actor: 1, With: 3, Who: "rb", Text: "sends read(b)", Extra: "cap reached: stops issuing",
					Slots: []Slot{{Text: "2/2", Mode: "stop", Full: "stopped until in-flight <= 0", Changed: true}},
					Set:   []int{0, 1, 3}, Values: []string{"2/2", "stopped until in-flight <= 0", "parked on read(b)"}},
			},
			Markers:      []Marker{{Before: 3, Kind: "end", Text: "the end: nothing can move any more (why: above)"}},
			Vars:         []string{"app slots", "app mode", "ra", "rb"},
			Init:         []string{"0/2", "messaging", "next read(a)", "next read(b)"},
			ExplainTitle: "Why nothing can move:",
			Explain:      []PageLine{{0, "app: slots 2/2"}},
			Legend: []string{
				"● marks who moved; the arrow points to whom the step is addressed.",
				"slots: the messages app has in flight out of its cap after the step, and its mode when it is not messaging (poll: polling; stop: stopped issuing); yellow marks a change.",
				"Click a step, or press ↓ → j for the next and ↑ ← k for the previous, Home and End for the initial state and the end, to see the state after it: yellow marks what the step changed, with its value before.",
			},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("page\n got %+v\nwant %+v", got, want)
	}
}

// A lasso's page brackets its cycle and marks where finishing became
// impossible; with two views the first is the title's, and the
// porcupine link is kept as given.
func TestNewPageLasso(t *testing.T) {
	tr := sample()
	tr.Kind, tr.Property, tr.Loop, tr.NoReturn = "livelock", "no livelock", 1, 0
	tr.Explain = []string{"app: slots 2/2, polling", "  slot 1  ra's read(a): waits", "    deeper"}
	lasso := NewView(tr)
	p := NewPage([]NamedView{{"minimised", lasso}, {"all steps", NewView(sample())}}, "../porcupine/put-get.html")
	if p.Title != lasso.Headline || p.Porcupine != "../porcupine/put-get.html" || len(p.Views) != 2 || p.Views[0].Name != "minimised" || p.Views[1].Name != "all steps" {
		t.Fatalf("title %q, porcupine %q, %d views", p.Title, p.Porcupine, len(p.Views))
	}
	v := p.Views[0]
	wantMarkers := []Marker{
		{Before: 1, Kind: "noreturn", Text: "from here on the system can no longer finish"},
		{Before: 2, Kind: "cycle", Text: "the cycle starts here and repeats forever"},
		{Before: 3, Kind: "back", Text: "back to the state before step 2: repeats forever"},
	}
	if !reflect.DeepEqual(v.Markers, wantMarkers) {
		t.Errorf("markers\n got %+v\nwant %+v", v.Markers, wantMarkers)
	}
	if want := (&Cycle{First: 2, Last: 2, Label: "repeats forever"}); !reflect.DeepEqual(v.Cycle, want) {
		t.Errorf("cycle %+v, want %+v", v.Cycle, want)
	}
	if v.Rows[0].Cycle || !v.Rows[1].Cycle {
		t.Errorf("rows in the cycle: %v %v, want false true", v.Rows[0].Cycle, v.Rows[1].Cycle)
	}
	wantExplain := []PageLine{{0, "app: slots 2/2, polling"}, {1, "slot 1  ra's read(a): waits"}, {2, "deeper"}}
	if !reflect.DeepEqual(v.Explain, wantExplain) {
		t.Errorf("explain %+v, want %+v", v.Explain, wantExplain)
	}
	if v.ExplainTitle != "On the cycle nothing finishes:" || !strings.Contains(strings.Join(v.Legend, "\n"), "after step 2 the system is back in the state before step 2") {
		t.Errorf("explain title %q, legend %q", v.ExplainTitle, v.Legend)
	}
}

// A headline that is not the title, config and verdict is the heading
// whole; a step addressed to its own actor has no arrow; no views make an
// empty page; a view without states has no initial state.
func TestNewPageEdges(t *testing.T) {
	v := NewView(sample())
	v.Headline = "something else"
	v.Rows[0].With = v.Rows[0].Actor
	v.States, v.Vars = [][]string{}, []string{}
	pv := NewPage([]NamedView{{"all steps", v}}, "").Views[0]
	if pv.Heading != "something else" || pv.Verdict != "" || pv.Config != "" {
		t.Errorf("heading %q, verdict %q, config %q", pv.Heading, pv.Verdict, pv.Config)
	}
	if pv.Rows[0].With != -1 || pv.Rows[1].With != 3 {
		t.Errorf("with %d %d, want -1 3", pv.Rows[0].With, pv.Rows[1].With)
	}
	if len(pv.Init) != 0 || len(pv.Rows[0].Set) != 0 || pv.Rows[0].Set == nil {
		t.Errorf("init %q, set %v", pv.Init, pv.Rows[0].Set)
	}
	if got := NewPage(nil, ""); got.Title != "" || got.Views == nil || len(got.Views) != 0 {
		t.Errorf("no views: %+v", got)
	}
}

// hostile is a trace whose every text from its workload tries to run:
// the page must show it all as text.
func hostile() *Trace {
	const script = `<script>window.pwned = 1</script>`
	const img = `<img src=x onerror="window.pwned = 2">`
	tr := sample()
	tr.Title = script + ` & </script><script>window.pwned = 3</script>`
	tr.Processes = []string{img}
	tr.Actors = []string{img, script, "scheduler", "kernel"}
	tr.Init = []Var{{script, img}, {img, "-->"}}
	tr.Steps = []Step{
		{Actor: img, With: script, Text: script, Note: "slots 1/2  " + img, Slots: []int{1}, Modes: []string{img},
			Changes: []Change{{script, img, `"</script><!--`}}},
		{Actor: script, Text: img, Slots: []int{1}, Modes: []string{"polling"},
			Changes: []Change{{img, "-->", "\u2028" + script}}},
	}
	tr.Path = []int{0, 0, 0}
	tr.Explain = []string{img, "  " + script}
	return tr
}

// The page holds the trace's texts only escaped: in the data block, which
// parses back to the page, and in the title. Its style and script are the
// ones its content security policy allows, and it names nothing on the
// network.
func TestWritePage(t *testing.T) {
	p := NewPage([]NamedView{{"all steps", NewView(hostile())}}, "javascript:window.pwned=4")
	var b bytes.Buffer
	if err := WritePage(&b, p); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, raw := range []string{"<script>window", "<img", `href="javascript`, "http://", "https://", "\u2028"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q", raw)
		}
	}
	if !strings.Contains(page, `<a href="#ZgotmplZ">`) {
		t.Error("a javascript: link to porcupine is not neutralised")
	}
	data := regexp.MustCompile(`(?s)<script type="application/json" id="page-data">(.*?)</script>`).FindStringSubmatch(page)
	if data == nil {
		t.Fatal("no data block")
	}
	var back Page
	if err := json.Unmarshal([]byte(data[1]), &back); err != nil {
		t.Fatal(err)
	}
	p.Porcupine = "" // the template's link filter keeps javascript: out of the page, not out of the data
	back.Porcupine = ""
	if !reflect.DeepEqual(back, p) {
		t.Errorf("the data block parses as\n%+v\nwant\n%+v", back, p)
	}
	if got := strings.Count(page, "<script"); got != 2 {
		t.Errorf("%d script elements, want 2 (the data and the page's script)", got)
	}
	csp := regexp.MustCompile(`style-src '(sha256-[^']+)'; script-src '(sha256-[^']+)'`).FindStringSubmatch(page)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
	if csp == nil || style == nil || script == nil {
		t.Fatal("no content security policy, style or script")
	}
	for i, inline := range []string{style[1], script[1]} {
		sum := sha256.Sum256([]byte(inline))
		if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); html.UnescapeString(csp[i+1]) != want {
			t.Errorf("the policy allows %s, the page has %s", csp[i+1], want)
		}
	}
}

// The page is the data and the assets once: a long trace grows it
// linearly, by what its steps change.
func TestPageGrowsLinearly(t *testing.T) {
	size := func(n int) int {
		var b bytes.Buffer
		if err := WritePage(&b, NewPage([]NamedView{{"all steps", NewView(long(t, n))}}, "")); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	base, s1, s2 := size(0), size(1000), size(2000)
	if d1, d2 := s1-base, s2-base; d2 > 2*d1+d1/10 {
		t.Errorf("page of 0, 1,000 and 2,000 steps: %d, %d and %d bytes: more than linear", base, s1, s2)
	}
}

// long is the largest stored trace, the seed's deadlock, with its steps
// repeated to n steps.
func long(tb testing.TB, n int) *Trace {
	tb.Helper()
	f, err := os.Open("testdata/webserver-block-cap2.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	tr, err := Read(f.Name(), f)
	if err != nil {
		tb.Fatal(err)
	}
	steps := tr.Steps
	tr.Steps = nil
	for len(tr.Steps) < n {
		tr.Steps = append(tr.Steps, steps[:min(len(steps), n-len(tr.Steps))]...)
	}
	return tr
}

// BenchmarkPage lays out and writes the page of the largest stored trace,
// and of the same trace's steps repeated to 2,000.
func BenchmarkPage(b *testing.B) {
	for _, c := range []struct {
		name  string
		steps int
	}{{"webserver-block-cap2", 14}, {"2000-steps", 2000}} {
		b.Run(c.name, func(b *testing.B) {
			v := NewView(long(b, c.steps))
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := WritePage(&buf, NewPage([]NamedView{{"all steps", v}}, "")); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/page")
		})
	}
}
