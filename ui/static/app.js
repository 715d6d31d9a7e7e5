// GoMoNNto Network UI client. One WebSocket: binary frames from the server
// (see ui/frame.go for the format), JSON commands to it. window.__gm holds
// the decoded state for scripts and tests.
const gm = (window.__gm = { frames: {}, hist: {}, state: null, layout: null, drawn: [], received: 0, bytes: [], errors: [] });
const $ = (sel, el = document) => el.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
};
const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const q = (path) => path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);

// ---- colours ----
// A viridis-like map: 5 stops interpolated to 256 entries.
const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const x = (i / 255) * (stops.length - 1), k = Math.min(Math.floor(x), stops.length - 2), f = x - k;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
}
gm.lut = LUT;
const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];
// colourIndex maps v in [lo, hi] to 0..255 (hi == lo: 0).
function colourIndex(v, lo, hi) {
  if (!(hi > lo)) return 0;
  return Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255)));
}
gm.colourIndex = colourIndex;

// ---- decoding ----
const td = new TextDecoder();
function revive(v, buf, base) {
  if (Array.isArray(v)) return v.map((x) => revive(x, buf, base));
  if (v && typeof v === "object") {
    if ("$b" in v) {
      const o = base + v.o;
      if (v.t === "f32") return new Float32Array(buf, o, v.n);
      if (v.t === "i32") return new Int32Array(buf, o, v.n);
      return new Uint8Array(buf, o, v.n);
    }
    const out = {};
    for (const k in v) out[k] = revive(v[k], buf, base);
    return out;
  }
  return v;
}
function decode(buf) {
  const dv = new DataView(buf);
  if (td.decode(new Uint8Array(buf, 0, 4)) !== "GMF1") throw new Error("not a GoMoNNto frame");
  const n = dv.getUint32(4, true);
  let off = 8;
  const parts = [];
  for (let p = 0; p < n; p++) {
    const jl = dv.getUint32(off, true);
    off += 4;
    const js = JSON.parse(td.decode(new Uint8Array(buf, off, jl)));
    off = (off + jl + 3) & ~3;
    const bl = dv.getUint32(off, true);
    off += 4;
    parts.push(revive(js, buf, off));
    off += bl;
  }
  return parts;
}

// ---- histories (client side rings fed by the server's deltas) ----
function applyHist(hs) {
  for (const [id, d] of Object.entries(hs)) {
    let h = gm.hist[id];
    if (!h || d.reset) h = gm.hist[id] = { spec: d.spec, its: [], vals: [], idx: [] };
    h.spec = d.spec;
    const cap = d.spec.cap;
    if (d.spec.kind === "series") {
      const w = d.spec.width;
      for (let r = 0; r < d.it.length; r++) {
        h.its.push(d.it[r]);
        h.vals.push(d.v.slice(r * w, (r + 1) * w));
      }
    } else {
      let k = 0;
      for (let r = 0; r < d.it.length; r++) {
        h.its.push(d.it[r]);
        h.idx.push(d.idx.slice(k, k + d.c[r]));
        k += d.c[r];
      }
    }
    const extra = h.its.length - cap;
    if (extra > 0) {
      h.its.splice(0, extra);
      if (h.vals.length) h.vals.splice(0, extra);
      if (h.idx.length) h.idx.splice(0, extra);
    }
  }
}

// ---- connection ----
let ws = null, backoff = 250, pending = null, drawScheduled = false;
function send(obj) {
  if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj));
}
async function cmd(obj) {
  if (!gm.layout || !gm.layout.control) return toast("this client may only watch");
  const r = await fetch(q("api/cmd"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj) });
  if (!r.ok) toast(await r.text());
  return r.ok;
}
gm.cmd = cmd;
function toast(msg) {
  const t = $("#toast");
  t.textContent = msg;
  t.style.display = "block";
  gm.errors.push(msg);
  clearTimeout(toast.t);
  toast.t = setTimeout(() => (t.style.display = "none"), 5000);
}
function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(proto + "//" + location.host + "/" + q("ws"));
  gm.ws = ws;
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    backoff = 250;
    $("#conn").textContent = "live";
    $("#conn").className = "badge running";
    sendView();
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      const m = JSON.parse(ev.data);
      if (m.error) toast(m.error);
      return;
    }
    gm.received++;
    const now = performance.now();
    gm.bytes.push([now, ev.data.byteLength]);
    const [shared, mine] = decode(ev.data);
    if (mine && mine.hist) applyHist(mine.hist);
    pending = shared;
    scheduleDraw();
  };
  ws.onclose = () => {
    $("#conn").textContent = "reconnecting";
    $("#conn").className = "badge down";
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 5000);
  };
}
function scheduleDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  const go = () => {
    if (!drawScheduled) return;
    drawScheduled = false;
    draw();
  };
  requestAnimationFrame(go);
  setTimeout(go, 100); // background tabs get no animation frames
}
function draw() {
  const f = pending;
  if (!f) return;
  pending = null;
  gm.state = f;
  for (const [id, d] of Object.entries(f.panels || {})) gm.frames[id] = d;
  try {
    render(f);
  } catch (e) {
    console.error(e);
    gm.errors.push(String(e));
  }
  const now = performance.now();
  gm.ndrawn = (gm.ndrawn || 0) + 1;
  gm.drawn.push([now, f.seq, f.iter]);
  while (gm.drawn.length && now - gm.drawn[0][0] > 5000) gm.drawn.shift();
  while (gm.bytes.length && now - gm.bytes[0][0] > 1000) gm.bytes.shift();
  send({ cmd: "ack", seq: f.seq });
}

// ---- page ----
const renderers = {};
const panes = {};
// The tabs shown: one, or several side by side (ctrl-click a tab, or
// ?tabs=a,b in the URL), like PymoNNto's pane layouts.
let shown = [];
function sendView() {
  send({ cmd: "view", panels: shown.slice() });
}
function setTabs(ids) {
  shown = ids.filter((id) => panes[id]);
  localStorage.setItem("gomonnto.tabs", shown.join(","));
  for (const b of document.querySelectorAll("nav#tabs button")) b.classList.toggle("active", shown.includes(b.dataset.id));
  for (const [pid, p] of Object.entries(panes)) p.classList.toggle("active", shown.includes(pid));
  $("#tabpanes").classList.toggle("split", shown.length > 1);
  sendView();
}
function clickTab(id, e) {
  if (e.ctrlKey || e.metaKey) setTabs(shown.includes(id) ? shown.filter((x) => x !== id) : [...shown, id]);
  else setTabs([id]);
}
function panelBox(p, parent) {
  const body = el("div", { class: "body" });
  const png = el("button", { title: "save this panel as PNG", onclick: () => savePNG(p.id) }, "PNG");
  const box = el("div", { class: "panel", id: "panel-" + p.id }, el("h2", {}, el("span", {}, p.title), png), body);
  parent.append(box);
  return body;
}
// panelPNG draws a panel's canvases one under the other into a PNG data URL.
function panelPNG(id) {
  const box = document.getElementById("panel-" + id);
  const cs = box ? [...box.querySelectorAll("canvas")] : [];
  if (!cs.length) return null;
  const W = Math.max(...cs.map((c) => c.width)), H = cs.reduce((s, c) => s + c.height + 4, 0);
  const out = el("canvas");
  out.width = W;
  out.height = H;
  const g = out.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H);
  let y = 0;
  for (const c of cs) {
    g.imageSmoothingEnabled = false;
    g.drawImage(c, 0, y);
    y += c.height + 4;
  }
  return out.toDataURL("image/png");
}
gm.panelPNG = panelPNG;
function savePNG(id) {
  const url = panelPNG(id);
  if (!url) return toast("nothing drawn in this panel");
  const a = el("a", { href: url, download: `${id}-${gm.state ? gm.state.iter : 0}.png` });
  document.body.append(a);
  a.click();
  a.remove();
}
async function start() {
  const r = await fetch(q("api/layout"));
  if (!r.ok) {
    document.body.textContent = await r.text();
    return;
  }
  gm.layout = await r.json();
  document.title = gm.layout.title;
  const side = $("#sidebar"), tabs = $("#tabs"), tp = $("#tabpanes");
  for (const p of gm.layout.panels) {
    const make = kinds[p.kind];
    if (!make) continue;
    let body;
    if (p.place === "sidebar") body = panelBox(p, side);
    else {
      tabs.append(el("button", { "data-id": p.id, title: "ctrl-click shows several tabs side by side", onclick: (e) => clickTab(p.id, e) }, p.title));
      const pane = el("div", { class: "tabpane" });
      tp.append(pane);
      panes[p.id] = pane;
      body = panelBox(p, pane);
    }
    renderers[p.id] = make(p, body);
  }
  const want = (params.get("tabs") || localStorage.getItem("gomonnto.tabs") || "").split(",").filter((id) => panes[id]);
  const first = gm.layout.panels.find((p) => p.place === "tab");
  setTabs(want.length ? want : first ? [first.id] : []);
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    if (e.code === "Space") {
      e.preventDefault();
      cmd({ cmd: "toggle" });
    }
  });
  connect();
}
function render(f) {
  const it = $("#iter");
  it.textContent = "iteration " + f.iter;
  const rs = $("#runstate");
  const ff = f.ff && f.ff.left > 0;
  rs.textContent = ff ? "fast forward" : f.paused ? "paused" : "running";
  rs.className = "badge " + (ff ? "ff" : f.paused ? "paused" : "running");
  const s = f.stats || {};
  const now = performance.now();
  const fps = gm.drawn.filter((d) => now - d[0] < 1000).length;
  const bps = gm.bytes.reduce((a, b) => a + b[1], 0);
  $("#hud").textContent = `${fmt(s.steps_per_s)} steps/s · ${fps} frames/s · ${fmtBytes(bps)}/s · frame ${fmt(s.frame_ms)} ms · ${s.reads} reads · ${s.dropped} dropped`;
  for (const [id, r] of Object.entries(renderers)) {
    const p = gm.layout.panels.find((x) => x.id === id);
    if (p.place === "tab" && !shown.includes(id)) continue;
    r(f, f.panels ? f.panels[id] : undefined);
  }
}
const fmt = (x) => (x === undefined || x === null ? "-" : Math.abs(x) >= 100 ? Math.round(x).toString() : Number(x).toPrecision(3));
const fmtBytes = (b) => (b > 1e6 ? (b / 1e6).toFixed(1) + " MB" : b > 1e3 ? (b / 1e3).toFixed(1) + " KB" : b + " B");

// ---- image helpers ----
// paint draws w x h cells (row 0 at the top) coloured by LUT over [lo, hi];
// NaN cells stay background; mark(c) may return an RGB override.
function paint(canvas, w, h, cells, lo, hi, mark) {
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const g = canvas.getContext("2d");
  const img = g.createImageData(w, h);
  const d = img.data;
  for (let c = 0; c < w * h; c++) {
    const v = cells[c];
    const m = mark && mark(c);
    if (m) {
      d[c * 4] = m[0];
      d[c * 4 + 1] = m[1];
      d[c * 4 + 2] = m[2];
    } else if (v === v && v !== undefined) {
      const k = colourIndex(v, lo, hi) * 3;
      d[c * 4] = LUT[k];
      d[c * 4 + 1] = LUT[k + 1];
      d[c * 4 + 2] = LUT[k + 2];
    } else {
      d[c * 4] = d[c * 4 + 1] = d[c * 4 + 2] = 229;
    }
    d[c * 4 + 3] = 255;
  }
  g.putImageData(img, 0, 0);
}
function scaleCanvas(canvas, w, h, maxPx) {
  const s = Math.max(1, Math.floor(maxPx / Math.max(w, h)));
  canvas.style.width = w * s + "px";
  canvas.style.height = h * s + "px";
}

// ---- kinds ----
const kinds = {};

// grid: the network selector.
kinds.grid = (p, body) => {
  const boxes = [];
  const hover = el("div", { class: "hover" });
  for (const g of p.spec.groups) {
    const c = el("canvas", { class: "px", "data-group": g.group });
    c.width = g.w;
    c.height = g.h;
    scaleCanvas(c, g.w, g.h, 300);
    const box = el("div", { class: "gridbox" }, el("span", {}, `${g.group} (${g.n}${g.binned ? ", binned" : ""})`), c);
    boxes.push({ g, c, box });
    let down = null;
    const cellAt = (e) => {
      const r = c.getBoundingClientRect();
      const x = Math.floor(((e.clientX - r.left) / r.width) * g.w), y = Math.floor(((e.clientY - r.top) / r.height) * g.h);
      return [Math.max(0, Math.min(g.w - 1, x)), Math.max(0, Math.min(g.h - 1, y))];
    };
    c.addEventListener("mousedown", (e) => (down = cellAt(e)));
    c.addEventListener("mouseup", (e) => {
      if (!down) return;
      const up = cellAt(e);
      const [x0, x1] = [Math.min(down[0], up[0]), Math.max(down[0], up[0])], [y0, y1] = [Math.min(down[1], up[1]), Math.max(down[1], up[1])];
      down = null;
      const idx = [];
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (g.first[y * g.w + x] >= 0) idx.push(g.first[y * g.w + x]);
      if (idx.length) cmd({ cmd: "select", group: g.group, idx, add: e.shiftKey || e.ctrlKey });
    });
    c.addEventListener("mousemove", (e) => {
      const [x, y] = cellAt(e);
      const i = g.first[y * g.w + x];
      const fr = gm.frames.selector && gm.frames.selector.groups.find((q) => q.group === g.group);
      const v = fr ? fr.cells[y * g.w + x] : NaN;
      hover.textContent = i >= 0 ? `${g.group}[${i}]${g.binned ? "…" : ""} ${p.spec.var} = ${fmt(v)}` : "";
    });
  }
  body.append(el("div", { class: "grids" }, ...boxes.map((b) => b.box)), hover, el("div", { class: "muted" }, "click selects, shift-click adds, drag selects a box"));
  return (f, d) => {
    if (!d) return;
    const sel = f.selection;
    for (const { g, c, box } of boxes) {
      const fr = d.groups.find((q) => q.group === g.group);
      if (!fr) continue;
      const marked = new Set();
      if (sel.group === g.group) for (const i of sel.idx) for (let k = 0; k < g.first.length; k++) if (g.first[k] === i) marked.add(k);
      box.classList.toggle("selected", sel.group === g.group);
      paint(c, g.w, g.h, fr.cells, fr.lo, fr.hi, (k) => (marked.has(k) ? [0, 255, 0] : null));
    }
  };
};

// controls: run, step, speed, fast forward.
kinds.controls = (p, body) => {
  const play = el("button", { class: "primary", id: "btn-play", onclick: () => cmd({ cmd: gm.state && gm.state.paused ? "resume" : "pause" }) }, "pause");
  const nstep = el("input", { type: "number", value: "1", min: "1", id: "step-n" });
  const stepB = el("button", { id: "btn-step", onclick: () => cmd({ cmd: "step", n: +nstep.value }) }, "step");
  const spf = el("input", { type: "number", value: "1", min: "1", id: "spf" });
  const max = el("input", { type: "checkbox", id: "spf-max" });
  const setSpeed = () => cmd({ cmd: "speed", n: max.checked ? -1 : +spf.value });
  spf.addEventListener("change", setSpeed);
  max.addEventListener("change", setSpeed);
  const rate = el("input", { type: "number", value: "0", min: "0", id: "rate" });
  rate.addEventListener("change", () => cmd({ cmd: "rate", rate: +rate.value }));
  const rec = el("input", { type: "checkbox", id: "ff-record" });
  rec.checked = true;
  const prog = el("progress", { value: "0", max: "1", id: "ff-progress" });
  const ffs = p.spec.ff.map((n) => el("button", { "data-n": n, onclick: () => cmd({ cmd: "ff", n, record: rec.checked }) }, n >= 1000 ? n / 1000 + "k" : "" + n));
  body.append(
    el("div", { class: "row" }, play, nstep, stepB, el("span", { class: "muted" }, "Space: pause/run")),
    el("div", { class: "row" }, el("label", {}, "steps/frame "), spf, el("label", {}, max, " as fast as possible")),
    el("div", { class: "row" }, el("label", {}, "target steps/s (0: none) "), rate),
    el("div", { class: "row" }, el("span", {}, "fast forward"), ...ffs),
    el("div", { class: "row" }, el("label", {}, rec, " record while fast forwarding")),
    prog
  );
  let edited = 0;
  for (const i of [spf, rate]) i.addEventListener("input", () => (edited = performance.now()));
  return (f) => {
    play.textContent = f.paused ? "run" : "pause";
    const ff = f.ff || {};
    prog.value = ff.total ? (ff.total - ff.left) / ff.total : 0;
    if (performance.now() - edited > 2000) {
      max.checked = f.spf === -1;
      if (f.spf > 0 && document.activeElement !== spf) spf.value = f.spf;
      if (document.activeElement !== rate) rate.value = f.rate || 0;
    }
  };
};

// behaviors: switches by tag, and the list.
kinds.behaviors = (p, body) => {
  const quick = el("div", { class: "row" });
  const table = el("table");
  body.append(quick, table);
  let sig = "";
  return (f, d) => {
    if (!d || !d.list) return;
    const s = JSON.stringify(d.list) + (gm.layout.control ? 1 : 0);
    if (s === sig) return;
    sig = s;
    const tags = [...new Set([...(p.spec.quick || []), ...d.list.flatMap((b) => b.tags.slice(0, 1))])];
    quick.replaceChildren(
      ...tags.map((t) => {
        const on = d.list.filter((b) => b.tags.includes(t)).every((b) => b.active);
        const cb = el("input", { type: "checkbox", "data-tag": t, onchange: (e) => cmd({ cmd: "active", tag: t, on: e.target.checked }) });
        cb.checked = on;
        return el("label", {}, cb, " " + t);
      })
    );
    table.replaceChildren(el("tr", {}, el("th", {}, "key"), el("th", {}, "owner"), el("th", {}, "behaviour"), el("th", {}, "on")), ...d.list.map((b) => el("tr", {}, el("td", {}, "" + b.key), el("td", {}, b.owner), el("td", {}, b.tags.join(", ")), el("td", {}, b.active ? "yes" : "off"))));
  };
};

// export: downloads.
kinds.export = (p, body) => {
  const list = el("div");
  const save = el("button", { onclick: async () => (await cmd({ cmd: "save" })) && toast("saved a results folder (see the events tab)") }, "save all to a results folder");
  body.append(list, el("div", { class: "row" }, el("a", { href: q("api/export?what=events&format=csv") }, "events.csv"), el("a", { href: q("api/export?what=events&format=json") }, "events.json"), save));
  let sig = "";
  return (f, d) => {
    if (!d) return;
    const s = JSON.stringify(d.hists);
    if (s === sig) return;
    sig = s;
    list.replaceChildren(
      ...d.hists.map((h) => el("div", { class: "row" }, el("span", {}, h.name), ...["csv", "npy", "json"].map((fm) => el("a", { href: q(`api/export?hist=${h.id}&format=${fm}`), download: "" }, fm))))
    );
  };
};

// lines: plots of histories.
function linePlot(parent, title) {
  const c = el("canvas", { width: "560", height: "170" });
  const t = el("div", { class: "t" }, title);
  const legend = el("div", { class: "legend" });
  parent.append(el("div", { class: "plot" }, t, c, legend));
  return { c, t, legend };
}
function drawLines(pl, series, opts = {}) {
  const { c } = pl;
  const g = c.getContext("2d");
  const W = c.width, H = c.height, L = 46, B = 18;
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series)
    for (let k = 0; k < s.x.length; k++) {
      const y = s.y[k];
      if (y !== y || y === null) continue;
      x0 = Math.min(x0, s.x[k]);
      x1 = Math.max(x1, s.x[k]);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  g.strokeStyle = "#d8dce3";
  g.strokeRect(L, 2, W - L - 2, H - B - 2);
  if (!(x1 >= x0)) return;
  if (y1 === y0) (y0 -= 0.5), (y1 += 0.5);
  if (x1 === x0) x1 = x0 + 1;
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - 4), Y = (y) => 2 + (1 - (y - y0) / (y1 - y0)) * (H - B - 4);
  if (opts.bands)
    for (const [k, b] of opts.bands.entries()) {
      if (b.lo > x1) continue;
      g.fillStyle = k % 2 ? "rgba(37,99,235,.06)" : "rgba(234,88,12,.06)";
      g.fillRect(X(Math.max(b.lo, x0)), 2, X(Math.min(b.hi, x1)) - X(Math.max(b.lo, x0)), H - B - 4);
      g.fillStyle = "#98a2b3";
      g.fillText(b.name, X(Math.max(b.lo, x0)) + 2, 12);
    }
  g.fillStyle = "#667085";
  g.font = "10px system-ui";
  g.fillText(fmt(y1), 2, 10);
  g.fillText(fmt(y0), 2, H - B);
  g.fillText(fmt(x0), L, H - 4);
  const t = fmt(x1);
  g.fillText(t, W - 4 - g.measureText(t).width, H - 4);
  series.forEach((s, i) => {
    g.strokeStyle = s.colour || PALETTE[i % PALETTE.length];
    g.lineWidth = 1.25;
    g.beginPath();
    let on = false;
    for (let k = 0; k < s.x.length; k++) {
      const y = s.y[k];
      if (y !== y || y === null) {
        on = false;
        continue;
      }
      if (on) g.lineTo(X(s.x[k]), Y(y));
      else g.moveTo(X(s.x[k]), Y(y));
      on = true;
    }
    g.stroke();
  });
  pl.legend.replaceChildren(...series.map((s, i) => el("span", {}, Object.assign(el("i"), { style: `background:${s.colour || PALETTE[i % PALETTE.length]}` }), `${s.label} ${s.y.length ? fmt(s.y[s.y.length - 1]) : ""}`)));
}
function seriesOf(ref, sel) {
  const h = gm.hist[ref.h];
  if (!h) return [];
  if (!ref.trace) return [{ label: ref.label, x: h.its, y: h.vals.map((v) => v[0]) }];
  const out = [];
  const n = ref.first ? 1 : Math.min(h.spec.width, sel.length);
  for (let j = 0; j < n; j++) out.push({ label: `${ref.label}[${sel[j]}]`, x: h.its, y: h.vals.map((v) => v[j]) });
  return out;
}
gm.seriesOf = seriesOf;
kinds.lines = (p, body) => {
  const wrap = el("div", { class: "plots" });
  body.append(wrap);
  let plots = [], key = "";
  return (f) => {
    const specs = p.spec.byGroup ? p.spec.byGroup[f.selection.group] || [] : p.spec.plots;
    const k = JSON.stringify(specs.map((s) => s.title));
    if (k !== key) {
      key = k;
      wrap.replaceChildren();
      plots = specs.map((s) => linePlot(wrap, s.title));
    }
    specs.forEach((s, i) => {
      const ser = s.series.flatMap((r) => (r.trace && f.selection.group !== r.label && !p.spec.byGroup ? [] : seriesOf(r, f.selection.idx)));
      drawLines(plots[i], ser);
    });
  };
};

// raster: spikes of every neuron over the history.
kinds.raster = (p, body) => {
  const items = p.spec.groups.map((g) => {
    const c = el("canvas", { class: "px", "data-group": g.group });
    body.append(el("div", { class: "t" }, `${g.group}: ${g.var} (${g.n} neurons${g.rows < g.n ? ` in ${g.rows} rows` : ""}; newest step on the right)`), c);
    return { g, c };
  });
  return (f) => {
    for (const { g, c } of items) {
      const h = gm.hist[g.h];
      if (!h) continue;
      const T = h.spec.cap, R = g.rows;
      if (c.width !== T || c.height !== R) {
        c.width = T;
        c.height = R;
        c.style.width = "100%";
        c.style.height = Math.max(R, 120) + "px";
      }
      const ctx = c.getContext("2d");
      const img = ctx.createImageData(T, R);
      const d = img.data;
      d.fill(255);
      const selRows = new Set();
      if (f.selection.group === g.group) for (const i of f.selection.idx) selRows.add(R < g.n ? Math.floor((i * R) / g.n) : i);
      for (const r of selRows) for (let x = 0; x < T; x++) ((d[(r * T + x) * 4] = 220), (d[(r * T + x) * 4 + 1] = 255), (d[(r * T + x) * 4 + 2] = 220));
      const last = h.its.length ? h.its[h.its.length - 1] : 0;
      for (let k = 0; k < h.its.length; k++) {
        const x = T - 1 - (last - h.its[k]);
        if (x < 0) continue;
        for (const r of h.idx[k]) {
          const o = (r * T + x) * 4;
          d[o] = d[o + 1] = d[o + 2] = selRows.has(r) ? 0 : 17;
          if (selRows.has(r)) d[o + 1] = 160;
        }
      }
      ctx.putImageData(img, 0, 0);
    }
  };
};

// heatmaps: weights of the selected neuron, return maps.
kinds.heatmaps = (p, body) => {
  const head = el("div", { class: "row" });
  const wrap = el("div", { class: "grids" });
  body.append(head, wrap);
  if (p.id === "weights") {
    const sel = el("select", { id: "weights-dir", onchange: (e) => cmd({ cmd: "module", module: "weights", opt: { efferent: e.target.value === "efferent" } }) }, el("option", { value: "afferent" }, "afferent"), el("option", { value: "efferent" }, "efferent"));
    head.append(sel);
  }
  const info = el("span", { class: "muted" });
  head.append(info);
  let cs = [];
  return (f, d) => {
    if (!d) return;
    if (d.neuron !== undefined) info.textContent = `neuron ${d.group}[${d.neuron}], ${d.efferent ? "efferent" : "afferent"}`;
    if (cs.length !== d.items.length) {
      wrap.replaceChildren();
      cs = d.items.map((it) => {
        const c = el("canvas", { class: "px" });
        const t = el("span");
        wrap.append(el("div", { class: "gridbox" }, t, c));
        return { c, t };
      });
    }
    d.items.forEach((it, k) => {
      cs[k].t.textContent = `${it.syn}${it.attr ? " " + it.attr : ""}${it.group ? " on " + it.group : ""} [${fmt(it.lo)}, ${fmt(it.hi)}]${it.sparse ? " sparse" : ""}`;
      scaleCanvas(cs[k].c, it.w, it.h, 260);
      paint(cs[k].c, it.w, it.h, it.cells, it.lo, it.hi);
    });
  };
};

// bars: histograms.
kinds.bars = (p, body) => {
  const wrap = el("div", { class: "plots" });
  body.append(wrap);
  let plots = [];
  return (f, d) => {
    if (!d) return;
    if (plots.length !== d.hists.length) {
      wrap.replaceChildren();
      plots = d.hists.map((h) => linePlot(wrap, h.title));
    }
    d.hists.forEach((h, i) => {
      const pl = plots[i];
      pl.t.textContent = h.title;
      const c = pl.c, g = c.getContext("2d"), W = c.width, H = c.height, L = 46, B = 18;
      g.fillStyle = "#fff";
      g.fillRect(0, 0, W, H);
      const n = h.counts.length, top = Math.max(1, ...h.counts);
      g.fillStyle = PALETTE[i % PALETTE.length];
      for (let k = 0; k < n; k++) {
        const bh = (h.counts[k] / top) * (H - B - 4);
        g.fillRect(L + (k * (W - L - 4)) / n, H - B - bh, (W - L - 4) / n - 1, bh);
      }
      g.fillStyle = "#667085";
      g.font = "10px system-ui";
      g.fillText(fmt(top), 2, 10);
      g.fillText(fmt(h.lo), L, H - 4);
      const t = fmt(h.hi);
      g.fillText(t, W - 4 - g.measureText(t).width, H - 4);
      pl.legend.textContent = "";
    });
  };
};

// spectrum: Fourier power with EEG bands.
kinds.spectrum = (p, body) => {
  const pl = linePlot(body, "");
  pl.c.width = 900;
  pl.c.height = 260;
  return (f, d) => {
    if (!d) return;
    const bp = d.bands ? " · " + Object.entries(d.bands).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : "";
    pl.t.textContent = d.title + bp;
    drawLines(pl, [{ label: "power", x: d.f || [], y: d.p || [] }], { bands: p.spec.bands });
  };
};

// events: the timeline.
kinds.events = (p, body) => {
  const c = el("canvas", { width: "900", height: "40" });
  const table = el("table");
  body.append(c, table);
  let n = -1;
  return (f, d) => {
    if (!d) return;
    const g = c.getContext("2d"), W = c.width;
    g.fillStyle = "#fff";
    g.fillRect(0, 0, W, 40);
    const end = Math.max(1, d.iter);
    for (const e of d.events) {
      g.fillStyle = e.kind === "fast forward" ? "#7c3aed" : "#2563eb";
      const x = (e.iter / end) * (W - 2);
      g.fillRect(x, 8, Math.max(2, ((Math.max(e.end || e.iter, e.iter) - e.iter) / end) * (W - 2)), 20);
    }
    g.fillStyle = "#dc2626";
    g.fillRect(W - 2, 0, 2, 40);
    if (d.events.length === n) return;
    n = d.events.length;
    table.replaceChildren(el("tr", {}, el("th", {}, "iteration"), el("th", {}, "kind"), el("th", {}, "")), ...d.events.slice().reverse().map((e) => el("tr", {}, el("td", {}, e.end ? `${e.iter}-${e.end}` : "" + e.iter), el("td", {}, e.kind), el("td", {}, e.text))));
  };
};

// console: plots of expressions added at run time.
kinds.console = (p, body) => {
  const group = el("select", { id: "console-group" });
  const expr = el("input", { type: "text", id: "console-expr", placeholder: "mean(v), v[0:10], max(I) ... Enter adds a plot" });
  const add = () => expr.value.trim() && cmd({ cmd: "module", module: "console", opt: { group: group.value, expr: expr.value } }).then((ok) => ok && (expr.value = ""));
  expr.addEventListener("keydown", (e) => e.key === "Enter" && add());
  const wrap = el("div", { class: "plots" });
  body.append(el("div", { class: "row" }, group, el("button", { onclick: add }, "add plot")), expr, wrap);
  let plots = [], gs = "";
  return (f, d) => {
    if (!d) return;
    const s = JSON.stringify(d.groups);
    if (s !== gs) {
      gs = s;
      group.replaceChildren(...d.groups.map((g) => el("option", { value: g }, g)));
    }
    const specs = d.plots || [];
    while (plots.length < specs.length) plots.push(linePlot(wrap, specs[plots.length].title));
    specs.forEach((sp, i) => drawLines(plots[i], sp.series.flatMap((r) => seriesOf(r, []))));
  };
};

start();
