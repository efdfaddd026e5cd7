// The trace page: renders the views that sysmsg wrote into #page-data.
// Every text from the trace goes into the page as text (textContent),
// never as markup.
(function () {
  "use strict";

  var page = JSON.parse(document.getElementById("page-data").textContent);
  var $ = function (id) { return document.getElementById(id); };

  // el makes an element with a class and a text.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  var view = null; // the view shown
  var states = []; // states[n]: the values after step n
  var rowOf = []; // rowOf[n]: the chart's row of step n
  var valueCells = []; // the state table's value cells, one per variable
  var selected = -1;

  // buildStates rebuilds every state from the initial one and each step's
  // changes: one array per step, sharing the strings.
  function buildStates(v) {
    var out = [v.init.slice()];
    v.rows.forEach(function (r) {
      var next = out[out.length - 1].slice();
      r.set.forEach(function (k, i) { next[k] = r.values[i]; });
      out.push(next);
    });
    return out;
  }

  function renderHeader(v) {
    $("heading").textContent = v.heading;
    $("verdict").textContent = v.verdict;
    $("verdict").hidden = !v.verdict;
    $("config").textContent = v.config;
    $("config").hidden = !v.config;
    $("notes").textContent = v.notes.join(" · ");
    $("explain-title").textContent = v.explainTitle;
    var lines = $("explain-lines");
    clear(lines);
    v.explain.forEach(function (l) {
      var p = el("p", "depth" + Math.min(l.depth, 4), l.text);
      lines.appendChild(p);
    });
    $("explain").hidden = v.explain.length === 0;
    var legend = $("legend");
    clear(legend);
    v.legend.forEach(function (t) { legend.appendChild(el("li", "", t)); });
  }

  // lifelines fills a row's actor cells: every actor's lifeline, and for a
  // step the actor's dot and an arrow to its party. The style draws them
  // as the cells' backgrounds, by class: "a" the actor (a-r, a-l with the
  // arrow leaving to the right or left), "mid" a cell the arrow crosses,
  // "p-r", "p-l" the party, the arrow pointing right or left.
  function lifelines(tr, v, r) {
    var n = v.actors.length;
    var a = r ? r.actor : -1, w = r ? r.with : -1;
    var dir = w > a ? "r" : "l";
    for (var c = 0; c < n; c++) {
      var cls = "life";
      if (c === a) cls += w >= 0 ? " a-" + dir : " a";
      else if (w >= 0 && c === w) cls += " p-" + dir;
      else if (w >= 0 && c > Math.min(a, w) && c < Math.max(a, w)) cls += " mid";
      tr.appendChild(el("td", cls));
    }
  }

  function renderChart(v) {
    var chart = $("chart");
    var head = chart.tHead, body = chart.tBodies[0];
    clear(head);
    clear(body);
    var hr = el("tr");
    hr.appendChild(el("th", "gutter"));
    hr.appendChild(el("th", "num", "#"));
    v.actors.forEach(function (a) {
      var th = el("th", "actor", a);
      th.scope = "col";
      hr.appendChild(th);
    });
    v.slots.forEach(function (s) {
      var th = el("th", "slots", s);
      th.scope = "col";
      hr.appendChild(th);
    });
    hr.appendChild(el("th", "text", "step"));
    head.appendChild(hr);

    var markers = {};
    v.markers.forEach(function (m) { (markers[m.before] = markers[m.before] || []).push(m); });
    var cycle = v.cycle;
    // inLoop says whether a marker's line lies under the loop's bracket:
    // inside the cycle, or the line that goes back.
    function inLoop(before) {
      return cycle && before > cycle.first && before <= cycle.last + 1;
    }
    // marker draws a line across the chart, the lifelines going on
    // through it, with its text right of them.
    function marker(m) {
      var tr = el("tr", "marker " + m.kind);
      if (!inLoop(m.before)) tr.appendChild(el("td", "gutter"));
      tr.appendChild(el("td", "num"));
      lifelines(tr, v, null);
      var td = el("td", "text", m.text);
      td.colSpan = v.slots.length + 1;
      tr.appendChild(td);
      body.appendChild(tr);
    }

    rowOf = [];
    // Step 0: the initial state.
    var start = el("tr", "step start");
    start.appendChild(el("td", "gutter"));
    start.appendChild(el("td", "num", "0"));
    lifelines(start, v, null);
    v.slots.forEach(function () { start.appendChild(el("td", "slot")); });
    start.appendChild(el("td", "text", "the initial state"));
    start.dataset.step = "0";
    body.appendChild(start);
    rowOf.push(start);

    v.rows.forEach(function (r) {
      (markers[r.step] || []).forEach(marker);
      var tr = el("tr", "step" + (r.cycle ? " cycle" : ""));
      tr.dataset.step = String(r.step);
      if (cycle && r.step === cycle.first) {
        // The loop: a bracket over the cycle's rows and the line that
        // goes back, its arrow pointing at the cycle's first step.
        var g = el("td", "gutter loop-cell");
        g.rowSpan = cycle.last - cycle.first + 1 + v.markers.filter(function (m) { return inLoop(m.before); }).length;
        var loop = el("div", "loop");
        loop.title = cycle.label;
        loop.setAttribute("role", "img");
        loop.setAttribute("aria-label", cycle.label);
        g.appendChild(loop);
        tr.appendChild(g);
      } else if (!cycle || r.step < cycle.first) {
        tr.appendChild(el("td", "gutter"));
      }
      tr.appendChild(el("td", "num", String(r.step)));
      lifelines(tr, v, r);
      r.slots.forEach(function (s) {
        var td = el("td", "slot" + (s.changed ? " changed" : ""));
        td.appendChild(el("span", "count", s.text));
        if (s.mode) {
          var m = el("span", "mode", s.mode);
          m.title = s.full;
          td.appendChild(m);
        }
        tr.appendChild(td);
      });
      var text = el("td", "text");
      text.appendChild(el("span", "who", r.who));
      text.appendChild(document.createTextNode(" " + r.text));
      if (r.extra) text.appendChild(el("span", "extra", r.extra));
      tr.appendChild(text);
      body.appendChild(tr);
      rowOf.push(tr);
    });
    (markers[v.rows.length + 1] || []).forEach(marker);
  }

  function renderStateTable(v) {
    var body = $("state").tBodies[0];
    clear(body);
    valueCells = [];
    v.vars.forEach(function (name) {
      var tr = el("tr");
      var th = el("th", "", name);
      th.scope = "row";
      tr.appendChild(th);
      var td = el("td");
      td.appendChild(el("span", "value"));
      td.appendChild(el("span", "was"));
      tr.appendChild(td);
      body.appendChild(tr);
      valueCells.push(td);
    });
    $("state").hidden = v.vars.length === 0;
    $("state-none").hidden = v.vars.length > 0;
  }

  // select shows the state after step n; scroll brings its row into
  // view, as after a key.
  function select(n, scroll) {
    var last = view.rows.length;
    n = Math.max(0, Math.min(last, n));
    if (selected >= 0 && rowOf[selected]) {
      rowOf[selected].classList.remove("selected");
      rowOf[selected].removeAttribute("aria-selected");
    }
    selected = n;
    var tr = rowOf[n];
    tr.classList.add("selected");
    tr.setAttribute("aria-selected", "true");
    if (scroll && tr.scrollIntoView) tr.scrollIntoView({ block: "nearest" });

    if (n === 0) {
      $("state-title").textContent = "The initial state";
      $("state-step").textContent = "";
    } else {
      var r = view.rows[n - 1];
      $("state-title").textContent = "After step " + n + " of " + last + (n === last ? " (the end)" : "");
      var step = $("state-step");
      clear(step);
      step.appendChild(el("span", "who", r.who));
      step.appendChild(document.createTextNode(" " + r.text));
      if (r.extra) step.appendChild(el("span", "extra", r.extra));
      if (r.cycle) step.appendChild(el("span", "on-cycle", "on the cycle"));
    }
    if (states.length === 0) return;
    var now = states[n], before = n > 0 ? states[n - 1] : null;
    valueCells.forEach(function (td, i) {
      var changed = before !== null && before[i] !== now[i];
      td.parentNode.classList.toggle("changed", changed);
      td.firstChild.textContent = now[i];
      td.lastChild.textContent = changed ? "was " + before[i] : "";
    });
  }

  function show(i) {
    view = page.views[i];
    states = view.init.length > 0 ? buildStates(view) : [];
    selected = -1;
    renderHeader(view);
    renderChart(view);
    renderStateTable(view);
    var buttons = $("views").children;
    for (var k = 0; k < buttons.length; k++) {
      buttons[k].setAttribute("aria-pressed", String(k === i));
    }
    select(view.rows.length);
  }

  if (page.views.length > 1) {
    var group = $("views");
    page.views.forEach(function (v, i) {
      var b = el("button", "", v.name + " (" + v.rows.length + (v.rows.length === 1 ? " step)" : " steps)"));
      b.type = "button";
      b.addEventListener("click", function () { show(i); });
      group.appendChild(b);
    });
    group.hidden = false;
  }

  $("chart").tBodies[0].addEventListener("click", function (e) {
    var tr = e.target.closest ? e.target.closest("tr.step") : null;
    if (tr) select(Number(tr.dataset.step));
  });

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !view) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
    var n = selected;
    switch (e.key) {
      case "ArrowDown": case "ArrowRight": case "j": n++; break;
      case "ArrowUp": case "ArrowLeft": case "k": n--; break;
      case "Home": n = 0; break;
      case "End": n = view.rows.length; break;
      default: return;
    }
    e.preventDefault();
    select(n, true);
  });

  if (page.views.length > 0) show(0);
})();
