/**
 * The page: points, forests and the partial loss on the main thread's SVG; Monte-Carlo work
 * (M*_ε, the loss and its gradient, learning) in `worker.js`; plots by vega-lite. Everything
 * from the library comes from the browser bundle of mod.ts, as a user would import it.
 *
 * @module
 */
import {
  constrainedSpanningForest,
  constraintsFromMatrix,
  maxSpanningForest,
  negSquaredDistances,
  standardise,
} from "./spanclust.js";
import { vega, vl } from "./vega.js";
import { preset } from "./datasets.js";
import { decodeState, DEFAULTS, encodeState, MAX_POINTS } from "./state.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const SIZE = 400, HALF = 1.1;
const COLORS = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
  "#ff9da6",
  "#bab0ac",
];
const $ = (id) => document.getElementById(id);
const toPx = (v) => (v + HALF) / (2 * HALF) * SIZE;
const toPy = (v) => (HALF - v) / (2 * HALF) * SIZE;

const decoded = decodeState(location.hash);
let state = decoded.state;
let selected = null; // first point of a pair being marked
let analysisId = 0;
let analysis = null; // latest worker reply for the current state
/** What the browser test reads: counts and the learning curve. */
const probe = { analyses: 0, learn: [], ready: false };
globalThis.__spanclust = probe;

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.onmessage = (event) => onWorker(event.data);

function message(text) {
  $("message").textContent = text;
}

// ---- state ↔ controls ↔ URL -------------------------------------------------------------

function readControls() {
  const n = (id, dflt) => {
    const v = Number($(id).value);
    return Number.isFinite(v) && $(id).value !== "" ? v : dflt;
  };
  state = {
    ...state,
    k: Math.max(1, Math.round(n("k", DEFAULTS.k))),
    epsilon: n("eps", DEFAULTS.epsilon) > 0 ? n("eps", DEFAULTS.epsilon) : DEFAULTS.epsilon,
    samples: Math.min(5000, Math.max(1, Math.round(n("samples", DEFAULTS.samples)))),
    seed: Math.max(0, Math.round(n("seed", DEFAULTS.seed))),
    lr: n("lr", DEFAULTS.lr) > 0 ? n("lr", DEFAULTS.lr) : DEFAULTS.lr,
    learnSeed: Math.max(0, Math.round(n("learn-seed", DEFAULTS.learnSeed))),
  };
}

function writeControls() {
  $("k").value = state.k;
  $("eps").value = state.epsilon;
  $("samples").value = state.samples;
  $("seed").value = state.seed;
  $("lr").value = state.lr;
  $("learn-seed").value = state.learnSeed;
}

function changed() {
  history.replaceState(null, "", `#${encodeState(state)}`);
  update();
}

// ---- the forests (deterministic, cheap: main thread) and the worker's estimates ------------

function solve() {
  const n = state.points.length;
  if (n === 0) return { error: "Click to place points, or load a preset." };
  if (n === 1) return { error: "Place at least two points." };
  if (state.k > n) return { error: `k = ${state.k} exceeds the n = ${n} points: lower k.` };
  let sigma;
  try {
    sigma = standardise(negSquaredDistances(state.points));
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) }; // e.g. all points coincide
  }
  const forest = maxSpanningForest(sigma, state.k);
  let constrained = null, cError = null;
  if (state.pairs.length > 0) {
    const rows = Array.from({ length: n }, () => new Array(n).fill(null));
    for (const [i, j, kind] of state.pairs) rows[i][j] = rows[j][i] = kind;
    try {
      constrained = constrainedSpanningForest(sigma, state.k, constraintsFromMatrix(rows));
    } catch (e) {
      cError = e instanceof Error ? e.message : String(e);
    }
  }
  return { forest, constrained, cError };
}

function update() {
  selected = null;
  analysis = null;
  const solved = solve();
  render(solved);
  message(solved.error ?? solved.cError ?? decoded.problems.join("; "));
  decoded.problems = [];
  if (solved.error || solved.cError) return;
  const id = ++analysisId;
  worker.postMessage({
    type: "analyse",
    id,
    points: state.points,
    k: state.k,
    epsilon: state.epsilon,
    samples: state.samples,
    seed: state.seed,
    pairs: state.pairs,
  });
  $("loss").textContent = state.pairs.length > 0 ? "computing…" : "– (mark a pair)";
}

function onWorker(msg) {
  if (msg.type === "analysis") {
    if (msg.id !== analysisId) return; // a newer state is on its way
    analysis = msg;
    probe.analyses++;
    const solved = solve();
    render(solved);
    renderHeatmap(solved.forest, msg.connectivity);
    $("loss").textContent = msg.loss === null ? "– (mark a pair)" : msg.loss.toFixed(4);
  } else if (msg.type === "step") onStep(msg);
  else if (msg.type === "done") learnFinished("done");
  else if (msg.type === "error") {
    if (msg.id !== undefined) {
      if (msg.id === analysisId) $("loss").textContent = "–";
      if (msg.id === analysisId) message(msg.message);
    } else {
      message(msg.message);
      learnFinished("error");
    }
  }
}

// ---- drawing ------------------------------------------------------------------------------

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

function drawForest(svg, forest, withPairs, withArrows) {
  svg.replaceChildren();
  const defs = el("defs", {}, svg);
  const marker = el("marker", {
    id: `head-${svg.id}`,
    viewBox: "0 0 10 10",
    refX: 9,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: "auto-start-reverse",
  }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#333" }, marker);
  const p = state.points;
  if (forest) {
    for (const [i, j] of forest.edges) {
      el("line", {
        class: "edge",
        x1: toPx(p[i][0]),
        y1: toPy(p[i][1]),
        x2: toPx(p[j][0]),
        y2: toPy(p[j][1]),
        stroke: "#999",
        "stroke-width": 1.5,
      }, svg);
    }
  }
  if (withPairs) {
    for (const [i, j, kind] of state.pairs) {
      el("line", {
        class: kind === 1 ? "must-link" : "cannot-link",
        x1: toPx(p[i][0]),
        y1: toPy(p[i][1]),
        x2: toPx(p[j][0]),
        y2: toPy(p[j][1]),
        stroke: kind === 1 ? "#2a2" : "#d22",
        "stroke-width": 2.5,
        "stroke-dasharray": kind === 1 ? "none" : "6 4",
      }, svg);
    }
  }
  p.forEach(([x, y], i) => {
    const c = forest ? forest.labels[i] : -1;
    el("circle", {
      class: `pt${selected === i ? " selected" : ""}`,
      "data-i": i,
      "data-cluster": c,
      cx: toPx(x),
      cy: toPy(y),
      r: 6,
      fill: c < 0 ? "#ccc" : COLORS[c % COLORS.length],
      stroke: "#fff",
    }, svg);
  });
  if (withArrows && analysis?.gradPoints) {
    const g = analysis.gradPoints;
    const longest = Math.max(...g.map(([a, b]) => Math.hypot(a, b)));
    if (longest > 0) {
      const s = 0.2 / longest; // the longest arrow is 0.2 units; the others to scale
      g.forEach(([gx, gy], i) => {
        if (Math.hypot(gx, gy) * s < 0.01) return;
        el("line", {
          class: "arrow",
          "data-i": i,
          x1: toPx(p[i][0]),
          y1: toPy(p[i][1]),
          x2: toPx(p[i][0] - s * gx),
          y2: toPy(p[i][1] - s * gy),
          stroke: "#333",
          "stroke-width": 1.5,
          "marker-end": `url(#head-${svg.id})`,
        }, svg);
      });
    }
  }
}

function render(solved) {
  const forest = solved.forest ?? null;
  drawForest($("plot"), forest, true, false);
  $("clusters").textContent = forest ? `${forest.k} clusters` : "no clusters";
  const cf = solved.constrained ?? null;
  drawForest($("cplot"), cf ?? (state.pairs.length === 0 ? forest : null), true, true);
  $("cclusters").textContent = cf
    ? `${cf.k} clusters`
    : state.pairs.length === 0
    ? "no pairs marked: same as the forest"
    : "infeasible";
}

// ---- vega-lite views: built once, then only their data change -------------------------------

async function makeView(container, spec) {
  const full = { autosize: { type: "pad", resize: true }, ...spec };
  const view = new vega.View(vega.parse(vl.compile(full).spec), {
    renderer: "svg",
    container,
    hover: false,
  });
  await view.runAsync();
  return view;
}

const views = {};

async function buildViews() {
  views.heatmap = await makeView($("heatmap"), {
    width: 270,
    height: 270,
    data: { name: "cells" },
    mark: { type: "rect" },
    encoding: {
      x: { field: "col", type: "ordinal", axis: null, title: "point j" },
      y: { field: "row", type: "ordinal", axis: null, title: "point i" },
      color: {
        field: "m",
        type: "quantitative",
        title: "M*ε",
        scale: { domain: [0, 1], range: ["#ffffff", "#08306b"] },
      },
    },
  });
  const curve = (title, field, domain) => ({
    width: 300,
    height: 200,
    title,
    data: { name: "curve" },
    mark: { type: "line", point: false },
    encoding: {
      x: { field: "step", type: "quantitative", title: "SGD step" },
      y: { field, type: "quantitative", title, ...(domain ? { scale: { domain } } : {}) },
    },
  });
  views.loss = await makeView($("loss-chart"), curve("training loss", "loss"));
  views.error = await makeView($("error-chart"), curve("validation error", "valError", [0, 0.6]));
  views.mapped = await makeView($("mapped-chart"), {
    width: 260,
    height: 200,
    title: "validation points, Xθ",
    data: { name: "mapped" },
    mark: { type: "point", filled: true, size: 30 },
    encoding: {
      x: { field: "x", type: "quantitative", title: "(Xθ)₁", scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: "(Xθ)₂", scale: { zero: false } },
      color: { field: "blob", type: "nominal", title: "blob" },
    },
  });
}

function renderHeatmap(forest, connectivity) {
  if (!views.heatmap || !forest) return;
  const n = state.points.length;
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => forest.labels[a] - forest.labels[b] || a - b);
  const rows = [];
  order.forEach((i, r) => {
    order.forEach((j, c) => rows.push({ row: r, col: c, m: connectivity[i * n + j] }));
  });
  views.heatmap.data("cells", rows).runAsync();
}

// ---- learning -------------------------------------------------------------------------------

let learnRun = 0, pending = null, frame = 0, ended = "", dirty = false;

function onStep(msg) {
  if (msg.run !== learnRun) return;
  const r = msg.record;
  probe.learn.push({ step: r.step, loss: r.loss, valError: r.valError, ms: r.ms ?? null });
  pending = r;
  scheduleDraw();
}

/**
 * Redraws the learning views, at most every 100 ms, one view per task (a yield between them),
 * so that no single main-thread task holds all three vega renders.
 */
async function drawLearn() {
  dirty = false;
  const curve = probe.learn.filter((r) => r.loss !== null || r.step === 0);
  const r = pending;
  await views.loss.data("curve", curve.filter((c) => c.loss !== null)).runAsync();
  await nextTask();
  await views.error.data("curve", curve).runAsync();
  await nextTask();
  if (r) {
    await views.mapped.data("mapped", r.mapped.map(([x, y], i) => ({ x, y, blob: r.blob[i] })))
      .runAsync();
    $("learn-status").textContent = `step ${r.step}: loss ${
      r.loss === null ? "–" : r.loss.toFixed(3)
    }, validation error ${r.valError.toFixed(3)}${ended}`;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  frame = 0;
  if (dirty) scheduleDraw();
}

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function scheduleDraw() {
  dirty = true;
  if (frame) return;
  frame = requestAnimationFrame(() => {
    drawLearn().catch((e) => message(String(e)));
  });
}

function learnFinished(why) {
  $("learn").disabled = false;
  $("stop").disabled = true;
  ended = why === "error" ? "" : ` (${why})`;
  scheduleDraw();
}

function startLearning() {
  readControls();
  history.replaceState(null, "", `#${encodeState(state)}`);
  probe.learn = [];
  ended = "";
  learnRun++;
  $("learn").disabled = true;
  $("stop").disabled = false;
  worker.postMessage({
    type: "learn",
    run: learnRun,
    config: {
      seed: state.learnSeed,
      lr: state.lr,
      epsilon: state.epsilon,
      samples: 200,
      steps: Math.max(1, Math.round(Number($("steps").value) || 60)),
    },
  });
}

// ---- interaction ----------------------------------------------------------------------------

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function onPlotClick(event) {
  const svg = $("plot");
  const box = svg.getBoundingClientRect();
  const px = (event.clientX - box.left) * SIZE / box.width;
  const py = (event.clientY - box.top) * SIZE / box.height;
  const hit = state.points.findIndex(([x, y]) => Math.hypot(toPx(x) - px, toPy(y) - py) <= 8);
  if (mode() === "add") {
    if (hit >= 0) {
      state.points = state.points.filter((_, i) => i !== hit);
      state.pairs = state.pairs.filter(([i, j]) => i !== hit && j !== hit)
        .map(([i, j, kind]) => [i - (i > hit), j - (j > hit), kind]);
    } else if (state.points.length >= MAX_POINTS) {
      message(`At most ${MAX_POINTS} points (M*_ε is drawn as an n × n heatmap).`);
      return;
    } else {
      const x = px / SIZE * 2 * HALF - HALF, y = HALF - py / SIZE * 2 * HALF;
      state.points = [...state.points, [Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000]];
    }
    changed();
    return;
  }
  if (hit < 0) return;
  if (selected === null || selected === hit) {
    selected = selected === hit ? null : hit;
    render(solve());
    return;
  }
  const a = Math.min(selected, hit), b = Math.max(selected, hit);
  const kind = mode() === "ml" ? 1 : 0;
  const existing = state.pairs.find(([i, j]) => i === a && j === b);
  state.pairs = state.pairs.filter(([i, j]) => !(i === a && j === b));
  if (!existing || existing[2] !== kind) state.pairs.push([a, b, kind]);
  changed();
}

async function main() {
  writeControls();
  for (const b of document.querySelectorAll("button[data-preset]")) {
    b.addEventListener("click", () => {
      readControls();
      const p = preset(b.dataset.preset, state.seed);
      state = { ...state, points: p.points, pairs: [], k: p.k };
      writeControls();
      changed();
    });
  }
  $("clear").addEventListener("click", () => {
    state = { ...state, points: [], pairs: [] };
    changed();
  });
  $("clear-pairs").addEventListener("click", () => {
    state = { ...state, pairs: [] };
    changed();
  });
  for (const id of ["k", "eps", "samples", "seed", "lr", "learn-seed"]) {
    $(id).addEventListener("change", () => {
      readControls();
      changed();
    });
  }
  $("plot").addEventListener("click", onPlotClick);
  $("share").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      message("Link copied.");
    } catch {
      message(`Link: ${location.href}`);
    }
  });
  $("learn").addEventListener("click", startLearning);
  $("stop").addEventListener("click", () => {
    worker.postMessage({ type: "stop" });
    learnFinished("stopped");
  });
  await buildViews();
  update();
  probe.ready = true;
}

main().catch((e) => message(`The page failed to start: ${e instanceof Error ? e.message : e}`));
