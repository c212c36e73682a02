// Skyquorum operator's dashboard: draws the frames the server streams
// (/events) and posts the operator's commands (/api/command).
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const stats = { frames: 0, renderMs: 0, maxRenderMs: 0, rows: 0, leaderMarks: 0 };
window.sqStats = stats;
let last = null;
let sortKey = "ready", sortUp = true;

function withToken(path) {
  return token ? path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : path;
}

// ---- live stream ----
let ended = "";
function connect() {
  const es = new EventSource(withToken("/events"));
  es.onopen = () => { if (!ended) { $("conn").textContent = "live"; $("conn").className = "ok"; } };
  es.onerror = () => {
    if (ended) return;
    $("conn").textContent = "disconnected, retrying…"; $("conn").className = "bad";
  };
  // The server's last word: it has stopped, and the page no longer
  // updates.
  es.addEventListener("end", (ev) => {
    es.close();
    showEnded(ev.data || "the ground station has stopped");
  });
  es.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    if (f.error) { $("conn").textContent = f.error; return; }
    // window.sqHold = true (in the console) holds the picture still, as
    // for a screenshot; frames keep arriving and are skipped.
    if (window.sqHold) return;
    last = f;
    const t0 = performance.now();
    render(f);
    stats.renderMs = performance.now() - t0;
    stats.maxRenderMs = Math.max(stats.maxRenderMs, stats.renderMs);
    stats.frames++;
  };
}

function showEnded(why) {
  ended = why;
  $("conn").textContent = "ended"; $("conn").className = "bad";
  $("ended").textContent = why;
  $("ended").hidden = false;
  document.body.dataset.ended = "1";
}

function render(f) {
  if (f.ended && !ended) showEnded(f.ended);
  const s = f.show || {};
  $("showT").textContent = s.loaded ? s.t.toFixed(1) : "–";
  $("showDur").textContent = s.loaded ? s.duration.toFixed(1) : "–";
  $("progress").value = s.progress || 0;
  const drones = f.drones || [];
  const live = drones.filter((d) => d.live).length;
  const notReady = drones.filter((d) => !d.ready).length;
  const leaders = (f.leaders || []).map((l) => l ? "★" + l : "none").join(", ");
  $("summary").textContent = `${live}/${drones.length} live · ${notReady} not ready · leader ${leaders}`;
  stats.leaderMarks = 0;
  drawTop(f);
  drawSide(f);
  drawTable(drones);
  drawLog(f.log || []);
  drawPlots(f.history || []);
}

// ---- views ----
function bounds(f, axes) {
  let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  const add = (a, b) => { lo = [Math.min(lo[0], a), Math.min(lo[1], b)]; hi = [Math.max(hi[0], a), Math.max(hi[1], b)]; };
  for (const d of f.drones || []) {
    add(axes(d.pos)[0], axes(d.pos)[1]);
    if (d.planned) add(axes(d.planned)[0], axes(d.planned)[1]);
  }
  if (axes.fence) for (const p of f.fence || []) add(-p[1], -p[0]);
  if (axes.fence && f.grid) for (const d of f.drones || []) {
    if (d.cells <= 0 || d.cell < 0) continue;
    const [x0, y0, dx, dy] = cellRect(f.grid, d.cell);
    add(-y0, -x0); add(-(y0 + dy), -(x0 + dx));
  }
  if (!isFinite(lo[0])) { lo = [-10, -10]; hi = [10, 10]; }
  return { lo, hi };
}

function frameFor(cv, b, pad) {
  const w = cv.width, h = cv.height;
  const sx = (w - 2 * pad) / Math.max(hi0(b, 0), 1), sy = (h - 2 * pad) / Math.max(hi0(b, 1), 1);
  const k = Math.min(sx, sy);
  const ox = pad + ((w - 2 * pad) - k * hi0(b, 0)) / 2, oy = pad + ((h - 2 * pad) - k * hi0(b, 1)) / 2;
  // (a, b) in view axes, a to the right, b downward.
  return { k, at: (a, c) => [ox + (a - b.lo[0]) * k, oy + (c - b.lo[1]) * k] };
}
function hi0(b, i) { return b.hi[i] - b.lo[i]; }

// cellRect is airspace cell c of grid g as [x0, y0, dx, dy] (X north,
// Y west, metres).
function cellRect(g, c) {
  const i = c % g.dims[0], j = Math.floor(c / g.dims[0]) % g.dims[1];
  return [g.origin[0] + i * g.size[0], g.origin[1] + j * g.size[1], g.size[0], g.size[1]];
}

function drawDrones(ctx, f, axes, m, shadeCells) {
  const drones = f.drones || [];
  const r = Math.max(2, Math.min(6, m.k * 0.6));
  if (shadeCells) {
    // The first cell each drone holds, shaded where the grid is known;
    // without the grid, a disc around the drone.
    const g = f.grid, seen = new Set();
    stats.cells = [];
    for (const d of drones) {
      if (d.cells <= 0) continue;
      ctx.fillStyle = "rgba(120,160,255,0.3)"; ctx.strokeStyle = "rgba(150,185,255,0.8)";
      if (g && d.cell >= 0) {
        if (seen.has(d.cell)) continue;
        seen.add(d.cell);
        const [x0, y0, dx, dy] = cellRect(g, d.cell);
        const [a1, b1] = m.at(-(y0 + dy), -(x0 + dx));
        ctx.fillRect(a1, b1, dy * m.k, dx * m.k);
        ctx.strokeRect(a1, b1, dy * m.k, dx * m.k);
        stats.cells.push({ cell: d.cell, id: d.id, x: a1, y: b1, w: dy * m.k, h: dx * m.k });
      } else {
        const [a, b] = m.at(...axes(d.pos));
        ctx.beginPath(); ctx.arc(a, b, r * 2.5, 0, 2 * Math.PI); ctx.fill();
      }
    }
    stats.top = [];
  }
  ctx.lineWidth = 1;
  for (const d of drones) {
    if (!d.planned) continue;
    const [pa, pb] = m.at(...axes(d.planned));
    const [a, b] = m.at(...axes(d.pos));
    ctx.strokeStyle = "rgba(200,200,200,0.35)";
    ctx.beginPath(); ctx.moveTo(a, b); ctx.lineTo(pa, pb); ctx.stroke();
    ctx.strokeStyle = d.color;
    ctx.beginPath(); ctx.arc(pa, pb, r, 0, 2 * Math.PI); ctx.stroke();
  }
  for (const d of drones) {
    if (!d.leader) continue;
    const [a, b] = m.at(...axes(d.pos));
    stats.leaderMarks++;
    ctx.strokeStyle = "#fc3"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(a, b, r + 4, 0, 2 * Math.PI); ctx.stroke();
    ctx.fillStyle = "#fc3"; ctx.font = "12px sans-serif"; ctx.fillText("★" + d.id, a + r + 5, b - r - 2);
    ctx.lineWidth = 1;
  }
  // The drones last: no mark, label or planned ring hides one.
  for (const d of drones) {
    const [a, b] = m.at(...axes(d.pos));
    ctx.fillStyle = d.live ? (d.color === "#000000" ? "#444" : d.color) : "#555";
    ctx.beginPath(); ctx.arc(a, b, r, 0, 2 * Math.PI); ctx.fill();
    if (shadeCells) stats.top.push({ id: d.id, color: ctx.fillStyle, x: a, y: b, r: r });
  }
}

// Top view: north up (X), west left (Y).
function drawTop(f) {
  const cv = $("top"), ctx = cv.getContext("2d");
  const axes = (p) => [-p[1], -p[0]];
  axes.fence = true;
  const b = bounds(f, axes), m = frameFor(cv, b, 16);
  ctx.clearRect(0, 0, cv.width, cv.height);
  const fence = f.fence || [];
  if (fence.length > 2) {
    ctx.strokeStyle = "#e55"; ctx.setLineDash([6, 4]);
    ctx.beginPath();
    fence.forEach((p, i) => { const [a, c] = m.at(-p[1], -p[0]); i ? ctx.lineTo(a, c) : ctx.moveTo(a, c); });
    ctx.closePath(); ctx.stroke(); ctx.setLineDash([]);
  }
  drawDrones(ctx, f, axes, m, true);
  ctx.fillStyle = "#9ab"; ctx.font = "11px sans-serif"; ctx.fillText("N ↑", cv.width - 30, 14);
}

// Side view from the south: west left, up.
function drawSide(f) {
  const cv = $("side"), ctx = cv.getContext("2d");
  const axes = (p) => [-p[1], -p[2]];
  const b = bounds(f, axes);
  b.hi[1] = Math.max(b.hi[1], 0);
  const m = frameFor(cv, b, 16);
  ctx.clearRect(0, 0, cv.width, cv.height);
  const [, g] = m.at(0, 0);
  ctx.strokeStyle = "#456"; ctx.beginPath(); ctx.moveTo(0, g); ctx.lineTo(cv.width, g); ctx.stroke();
  drawDrones(ctx, f, axes, m, false);
}

// ---- table ----
const cols = [
  (d) => d.ready ? "yes" : "NO",
  (d) => d.id, (d) => d.net, (d) => d.state, (d) => d.mode,
  (d) => d.battery < 0 ? "?" : d.battery,
  (d) => d.sats < 0 ? "?" : `${d.gps}D ${d.sats}`,
  (d) => d.loss, (d) => d.retx, null,
  (d) => d.cells, (d) => d.preflight || "ok",
  (d) => d.planned ? offPlan(d).toFixed(1) : "",
  (d) => d.pos[2].toFixed(1),
  (d) => d.ageMs < 0 ? "never" : d.ageMs,
];
function offPlan(d) {
  return d.planned ? Math.hypot(d.pos[0] - d.planned[0], d.pos[1] - d.planned[1], d.pos[2] - d.planned[2]) : 0;
}
function sortValue(d, key) {
  switch (key) {
    case "ready": return (d.ready ? 1 : 0) * 1e6 + d.id;
    case "err": return offPlan(d);
    case "z": return d.pos[2];
    default: return d[key];
  }
}
function drawTable(drones) {
  const rows = drones.slice().sort((a, b) => {
    const x = sortValue(a, sortKey), y = sortValue(b, sortKey);
    const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
    return sortUp ? c : -c;
  });
  const body = document.createDocumentFragment();
  for (const d of rows) {
    const tr = document.createElement("tr");
    tr.className = (d.ready ? "" : "notready ") + (d.live ? "" : "dead");
    tr.dataset.id = d.id;
    tr.dataset.color = d.color;
    tr.dataset.leader = d.leader ? "1" : "0";
    tr.dataset.cell = d.cells > 0 ? d.cell : -1;
    cols.forEach((c, i) => {
      const td = document.createElement("td");
      if (c === null) {
        const sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = d.color; sw.title = d.color;
        td.appendChild(sw);
      } else {
        td.textContent = c(d);
      }
      if (i === 1 && d.leader) {
        const mk = document.createElement("span");
        mk.className = "leader-mark"; mk.textContent = " ★"; mk.title = "leader";
        td.appendChild(mk);
      }
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  const tb = $("drones").tBodies[0];
  tb.replaceChildren(body);
  stats.rows = rows.length;
}
for (const th of document.querySelectorAll("#drones th")) {
  th.addEventListener("click", () => {
    const k = th.dataset.key;
    if (sortKey === k) sortUp = !sortUp; else { sortKey = k; sortUp = true; }
    for (const o of document.querySelectorAll("#drones th")) o.className = "";
    th.className = "sorted" + (sortUp ? "" : " up");
    if (last) drawTable(last.drones || []);
  });
}

function drawLog(log) {
  const body = document.createDocumentFragment();
  for (const e of log.slice().reverse()) {
    const tr = document.createElement("tr");
    for (const v of [new Date(e.at).toLocaleTimeString(), e.net, e.index || "–", e.command,
      e.of ? `${e.applied}/${e.of}` : "", e.error || ""]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  $("log").tBodies[0].replaceChildren(body);
}

// ---- plots ----
const netColours = ["#6cf", "#fc6", "#c9f", "#9f9", "#f99", "#ff9", "#9ff", "#f9f"];
function plot(id, hist, get, fixedMax) {
  const cv = $(id), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (!hist.length) return;
  const t0 = hist[0].t, t1 = Math.max(hist[hist.length - 1].t, t0 + 1);
  let ymax = fixedMax || 0;
  for (const s of hist) ymax = Math.max(ymax, get(s));
  ymax = ymax || 1;
  const x = (t) => 30 + (t - t0) / (t1 - t0) * (cv.width - 36), y = (v) => cv.height - 14 - v / ymax * (cv.height - 22);
  ctx.fillStyle = "#9ab"; ctx.font = "10px sans-serif";
  ctx.fillText(ymax.toFixed(ymax < 10 ? 2 : 0), 2, 10); ctx.fillText("0", 2, cv.height - 14);
  ctx.fillText(`${(t1 - t0).toFixed(0)} s`, cv.width - 30, cv.height - 2);
  const nets = [...new Set(hist.map((s) => s.net))];
  nets.forEach((n, i) => {
    ctx.strokeStyle = netColours[i % netColours.length];
    ctx.beginPath();
    let first = true;
    for (const s of hist) {
      if (s.net !== n) continue;
      // An unknown value (negative) breaks the line.
      if (get(s) < 0) { first = true; continue; }
      first ? ctx.moveTo(x(s.t), y(get(s))) : ctx.lineTo(x(s.t), y(get(s)));
      first = false;
    }
    ctx.stroke();
  });
}
function drawPlots(hist) {
  plot("plotAir", hist, (s) => s.airtime, 1);
  plot("plotLoss", hist, (s) => s.loss, 0.05);
  plot("plotClock", hist, (s) => s.clockErrMs, 1);
}

// ---- commands ----
async function send(cmd) {
  $("reply").textContent = "sending " + cmd.op + "…"; $("reply").className = "";
  try {
    const r = await fetch("/api/command", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Token": token },
      body: JSON.stringify(cmd),
    });
    const rep = await r.json();
    $("reply").textContent = rep.ok ? rep.message : (rep.error || r.statusText);
    $("reply").className = rep.ok ? "" : "err";
  } catch (e) {
    $("reply").textContent = String(e); $("reply").className = "err";
  }
}
let pending = null;
for (const b of document.querySelectorAll("#controls button")) {
  b.addEventListener("click", () => {
    const cmd = { op: b.dataset.op, emergency: !!b.dataset.emergency, confirm: false };
    if (!cmd.emergency) { send(cmd); return; }
    pending = cmd;
    $("confirmText").textContent = `EMERGENCY ${cmd.op.toUpperCase()}: every drone obeys at once, no majority needed. Send it?`;
    $("confirm").showModal();
  });
}
$("confirm").addEventListener("close", () => {
  if (pending && $("confirm").returnValue === "ok") send({ ...pending, confirm: true });
  pending = null;
});

connect();
