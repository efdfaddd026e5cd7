package traces_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sysmsg/sysmsg/model"
	"github.com/sysmsg/sysmsg/traces"
)

var screenshot = flag.String("screenshot", "", "write the page of the seed's deadlock (testdata/webserver-block-cap2.json) as a PNG to this `file` (make screenshot)")

// TestPageInBrowser opens trace pages in headless Chromium, one browser for
// all its cases: each page loads without an error, draws its chart, moves
// between steps with the keys and clicks, marks a lasso's cycle as a loop,
// toggles between views, and shows hostile text as text.
func TestPageInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if *screenshot != "" {
			t.Fatal("-screenshot needs chromium (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium): the trace page is not tested in a browser")
	}
	dir := t.TempDir()
	// The whole test's time: past it the browser is stopped, and every
	// action fails.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1440, 1000))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}

	seed := storedView(t, "webserver-block-cap2.json")

	t.Run("deadlock", func(t *testing.T) {
		p := open(t, browser, dir, "deadlock", traces.NewPage([]traces.NamedView{{Name: "all steps", View: seed}}, ""))
		png := p.screenshot(filepath.Join(dir, "trace-page.png"))
		if *screenshot != "" {
			if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p.want(`document.title`, seed.Headline)
		p.want(`document.getElementById("heading").textContent`, seed.Title)
		p.want(`document.getElementById("verdict").textContent`, "DEADLOCK after 14 steps")
		var names []string
		for _, c := range seed.Columns {
			names = append(names, c.Name)
		}
		p.want(`[...document.querySelectorAll("#chart th.actor")].map(th => th.textContent).join(",")`, strings.Join(names, ","))
		p.want(`document.querySelectorAll("#chart tr.step").length`, len(seed.Rows)+1)
		p.want(`document.querySelectorAll("#explain-lines p").length`, len(seed.Explain))
		// The end is shown first: the deadlocked state.
		p.want(`document.querySelector("#chart tr.selected").dataset.step`, "14")
		p.want(`document.getElementById("state-title").textContent`, "After step 14 of 14 (the end)")
		// Each row draws its actor's dot in the actor's column and an
		// arrow from it, across the columns between, to its party's.
		p.want(`(() => {
			const bad = [];
			JSON.parse(document.getElementById("page-data").textContent).views[0].rows.forEach(r => {
				const cells = [...document.querySelectorAll('#chart tr.step[data-step="' + r.step + '"] td.life')];
				const dir = r.with > r.actor ? "r" : "l";
				cells.forEach((td, c) => {
					let want = "life";
					if (c === r.actor) want += r.with >= 0 ? " a-" + dir : " a";
					else if (c === r.with) want += " p-" + dir;
					else if (r.with >= 0 && c > Math.min(r.actor, r.with) && c < Math.max(r.actor, r.with)) want += " mid";
					if (td.className !== want) bad.push(r.step + "/" + c + ": " + td.className + ", want " + want);
				});
				const dot = getComputedStyle(cells[r.actor]).backgroundImage;
				if (!dot.startsWith("radial-gradient")) bad.push(r.step + ": no dot: " + dot);
			});
			return bad.join("; ");
		})()`, "")

		p.key(kb.Home)
		p.want(`document.getElementById("state-title").textContent`, "The initial state")
		before := p.text("#state-pane")
		p.key(kb.ArrowRight)
		after := p.text("#state-pane")
		if before == after {
			t.Errorf("ArrowRight did not change the state shown:\n%s", after)
		}
		p.want(`document.getElementById("state-title").textContent`, "After step 1 of 14")
		row := seed.Rows[0]
		p.want(`document.getElementById("state-step").textContent`, row.Who+" "+row.Text)
		// What step 1 changed is marked, with its value before.
		p.want(`[...document.querySelectorAll("#state tr.changed th")].map(th => th.textContent).join(",")`, changedNames(seed, 1))
		p.want(`document.querySelector("#state tr.changed .was").textContent`, "was "+seed.States[0][row.Changed[0]])
		for _, k := range []struct {
			key  string
			step string
		}{{"j", "2"}, {kb.ArrowDown, "3"}, {"k", "2"}, {kb.ArrowUp, "1"}, {kb.ArrowLeft, "0"}, {kb.ArrowLeft, "0"}, {kb.End, "14"}, {kb.ArrowRight, "14"}} {
			p.key(k.key)
			p.want(`document.querySelector("#chart tr.selected").dataset.step`, k.step)
		}
		p.click(`#chart tr.step[data-step="5"] td.text`)
		p.want(`document.querySelector("#chart tr.selected").dataset.step`, "5")
		p.want(`document.getElementById("state-title").textContent`, "After step 5 of 14")
		p.noErrors()
	})

	t.Run("lasso", func(t *testing.T) {
		// The stored lassos have a cycle of one step; the seed's deadlock
		// with a cycle from step 10 draws a loop over five rows.
		long := seed
		long.Rows = append([]traces.Row(nil), seed.Rows...)
		long.Loop = 10
		for i := range long.Rows {
			long.Rows[i].InCycle = long.Rows[i].Step >= 10
		}
		for _, c := range []struct {
			name string
			view traces.View
		}{
			{"livelock", storedView(t, "livelock-poll-cap1.json")},
			{"fair-progress", storedView(t, "fair-progress-one-retry-actor.json")},
			{"five-step-cycle", long},
		} {
			t.Run(c.name, func(t *testing.T) {
				v := c.view
				p := open(t, browser, dir, c.name, traces.NewPage([]traces.NamedView{{Name: "all steps", View: v}}, ""))
				p.screenshot(filepath.Join(dir, c.name+".png"))
				n := len(v.Rows) - v.Loop + 1
				p.want(`document.querySelectorAll("#chart tr.step.cycle").length`, n)
				p.want(`document.querySelectorAll(".loop").length`, 1)
				p.want(`document.querySelector(".loop").getAttribute("aria-label")`, "repeats forever")
				p.want(`document.querySelector("#chart tr.marker.back").textContent`, fmt.Sprintf("back to the state before step %d: repeats forever", v.Loop))
				// The loop runs from the cycle's first row, where its arrow
				// points, past its last row, to the line that goes back.
				p.want(`(() => {
					const loop = document.querySelector(".loop").getBoundingClientRect();
					const rows = document.querySelectorAll("#chart tr.step.cycle");
					const first = rows[0].getBoundingClientRect(), last = rows[rows.length - 1].getBoundingClientRect();
					const back = document.querySelector("#chart tr.marker.back").getBoundingClientRect();
					const bad = [];
					if (loop.width < 4) bad.push("width " + loop.width);
					if (loop.top < first.top || loop.top > first.bottom) bad.push("top " + loop.top + " outside the first row " + first.top + "-" + first.bottom);
					if (loop.bottom < last.bottom || loop.bottom > back.bottom) bad.push("bottom " + loop.bottom + " not between the last row " + last.bottom + " and the line back " + back.bottom);
					return bad.join("; ");
				})()`, "")
				p.want(`document.getElementById("state-step").textContent.endsWith("on the cycle")`, true)
				p.noErrors()
			})
		}
	})

	t.Run("toggle", func(t *testing.T) {
		short := storedView(t, "triangle-block-cap2.json")
		p := open(t, browser, dir, "toggle", traces.NewPage([]traces.NamedView{{Name: "minimised", View: short}, {Name: "all steps", View: seed}}, "porcupine.html"))
		p.want(`[...document.querySelectorAll("#views button")].map(b => b.textContent + ":" + b.getAttribute("aria-pressed")).join(",")`,
			"minimised (2 steps):true,all steps (14 steps):false")
		p.want(`document.querySelectorAll("#chart tr.step").length`, 3)
		p.want(`document.getElementById("heading").textContent`, short.Title)
		p.click(`#views button:nth-child(2)`)
		p.want(`document.querySelectorAll("#chart tr.step").length`, 15)
		p.want(`document.getElementById("heading").textContent`, seed.Title)
		p.want(`document.querySelector("#views button[aria-pressed=true]").textContent`, "all steps (14 steps)")
		p.key(kb.Home)
		p.key("j")
		p.want(`document.getElementById("state-title").textContent`, "After step 1 of 14")
		p.want(`document.querySelector("#porcupine a").getAttribute("href")`, "porcupine.html")
		p.noErrors()
	})

	t.Run("hostile", func(t *testing.T) {
		const script = `<script>window.pwned = 1</script>`
		const img = `<img src=x onerror="window.pwned = 2">`
		tr := &traces.Trace{
			Title: script, Workload: traces.Workload{Name: img, Text: script},
			Policy: "block", Processes: []string{img}, Caps: []int{2}, Lows: []int{0},
			Verdict: "violation", Kind: "deadlock", Property: img, Path: []int{0, 0}, Loop: -1, NoReturn: -1,
			Actors: []string{img, script, "kernel"},
			Init:   []traces.Var{{Name: script, Value: img}},
			Steps: []traces.Step{{Actor: img, With: script, Text: script, Note: "slots 1/2  " + img, Slots: []int{1}, Modes: []string{img},
				Changes: []traces.Change{{Var: script, From: img, To: "</script><script>window.pwned = 3</script>"}}}},
			Explain: []string{img, "  " + script},
		}
		p := open(t, browser, dir, "hostile", traces.NewPage([]traces.NamedView{{Name: img, View: traces.NewView(tr)}, {Name: script, View: traces.NewView(tr)}}, ""))
		p.key(kb.Home)
		p.key(kb.End)
		p.click(`#views button:nth-child(2)`)
		p.want(`typeof window.pwned`, "undefined")
		p.want(`document.querySelectorAll("img").length`, 0)
		p.want(`document.scripts.length`, 2)
		p.want(`document.title`, script+" — policy block, cap 2: DEADLOCK after 1 step")
		p.want(`document.getElementById("heading").textContent`, script)
		p.want(`[...document.querySelectorAll("#chart th.actor")].map(th => th.textContent).join(",")`, img+","+script+",kernel")
		p.want(`document.querySelector("#chart th.slots").textContent`, img+" slots")
		p.want(`document.querySelector("#chart td.slot .mode").textContent`, img)
		p.want(`document.querySelector("#chart tr.step[data-step='1'] td.text").textContent`, img+" "+script+img)
		p.want(`document.querySelector("#state tbody th").textContent`, script)
		p.want(`document.querySelector("#state tbody td .value").textContent`, "</script><script>window.pwned = 3</script>")
		p.want(`document.querySelector("#state tbody td .was").textContent`, "was "+img)
		p.want(`document.getElementById("explain-lines").textContent`, img+script)
		p.want(`document.querySelector("#views button").textContent`, img+" (1 step)")
		p.noErrors()
	})

	t.Run("2000-steps", func(t *testing.T) {
		v := seed
		v.Rows, v.States = nil, [][]string{seed.States[0]}
		for len(v.Rows) < 2000 {
			for _, r := range seed.Rows {
				r.Step = len(v.Rows) + 1
				v.Rows = append(v.Rows, r)
				v.States = append(v.States, seed.States[(r.Step-1)%len(seed.Rows)+1])
			}
		}
		start := time.Now()
		p := open(t, browser, dir, "long", traces.NewPage([]traces.NamedView{{Name: "all steps", View: v}}, ""))
		t.Logf("a page of %d steps loaded and drawn in %v", len(v.Rows), time.Since(start).Round(time.Millisecond))
		p.want(`document.querySelectorAll("#chart tr.step").length`, len(v.Rows)+1)
		p.key(kb.Home)
		p.key(kb.ArrowDown)
		p.want(`document.getElementById("state-title").textContent`, fmt.Sprintf("After step 1 of %d", len(v.Rows)))
		p.noErrors()
	})
}

// storedView reads a stored trace's view, with the states a trace of an older
// version gets by replay.
func storedView(t *testing.T, name string) traces.View {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := traces.Read(name, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Init) == 0 {
		if tr, err = model.Refresh(tr); err != nil {
			t.Fatal(err)
		}
	}
	return traces.NewView(tr)
}

// changedNames names the variables step n changed, in order.
func changedNames(v traces.View, n int) string {
	var out []string
	for _, k := range v.Rows[n-1].Changed {
		out = append(out, v.Vars[k])
	}
	return strings.Join(out, ",")
}

// tab is a page open in a tab of the browser, with the errors it reported.
type tab struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// errs are the console's errors, the exceptions nothing caught and
	// the browser's own errors (a script or style the page's policy
	// refused, a load that failed).
	errs []string
}

// open writes p to dir as name.html and opens it in a new tab of the
// browser, from the file, once its script has drawn the chart.
func open(t *testing.T, browser context.Context, dir, name string, p traces.Page) *tab {
	t.Helper()
	path := filepath.Join(dir, name+".html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := traces.WritePage(f, p); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithListener(tb.listen))
	t.Cleanup(cancel)
	tb.ctx = ctx
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("#chart tr.selected"))); err != nil {
		t.Fatalf("opening %s: %v (errors: %q)", path, err, tb.errors())
	}
	return tb
}

// listen runs in the tab's event loop: it only records.
func (p *tab) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			msg = "console.error: " + strings.Join(args, " ")
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			msg = "browser: " + ev.Entry.Text
		}
	}
	if msg != "" {
		p.mu.Lock()
		p.errs = append(p.errs, msg)
		p.mu.Unlock()
	}
}

func (p *tab) errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errs...)
}

// noErrors fails the test for any error the page reported so far.
func (p *tab) noErrors() {
	p.t.Helper()
	// An evaluation's reply comes after every event before it.
	p.eval(`0`)
	for _, e := range p.errors() {
		p.t.Errorf("the page reported %s", e)
	}
}

func (p *tab) eval(js string) any {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// want evaluates js in the page and compares its value with want.
func (p *tab) want(js string, want any) {
	p.t.Helper()
	got := p.eval(js)
	if n, ok := want.(int); ok {
		want = float64(n) // a number from the page
	}
	if got != want {
		p.t.Errorf("%s\n got %#v\nwant %#v", js, got, want)
	}
}

func (p *tab) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("the text of %s: %v", sel, err)
	}
	return s
}

func (p *tab) key(k string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.KeyEvent(k)); err != nil {
		p.t.Fatalf("key %q: %v", k, err)
	}
}

func (p *tab) click(sel string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		p.t.Fatalf("click %s: %v", sel, err)
	}
}

// screenshot takes the whole page as a PNG, writes it to path and returns
// it.
func (p *tab) screenshot(path string) []byte {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return png
}
