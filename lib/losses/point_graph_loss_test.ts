import assert from "node:assert/strict";
import { constraintsFromLabels } from "../constrained/constrained_forest.ts";
import { InfeasibleConstraintsError } from "../core/errors.ts";
import { partialFyLoss } from "./fy_loss.ts";
import {
  assertGraph,
  completeGraph,
  edgeLookup,
  type Graph,
  graphComponents,
} from "../graph/graph.ts";
import { constrainedSpanningForestOnGraph } from "../constrained/constrained_forest_on_graph.ts";
import { knnGraph } from "../graph/point_graphs.ts";
import {
  joinClasses,
  labelledNeighbourGraph,
  pairMoments,
  partialFyLossOfPointsOnGraph,
} from "./point_graph_loss.ts";
import { rectFromData, type RectMatrix, rectToRows } from "../core/rect_matrix.ts";
import { fillStandardNormal, streamFor } from "../core/random.ts";
import {
  negSquaredDistances,
  negSquaredDistancesVjp,
  standardise,
  standardiseVjp,
} from "../core/similarity.ts";

/** n × d Gaussian points, shifted by 3 along axis (label mod d) so the classes are apart. */
function labelledPoints(n: number, d: number, classes: number, seed: number) {
  const data = new Float64Array(n * d);
  fillStandardNormal(streamFor(seed), data);
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++) data[i * d + (labels[i] % d)] += 3;
  return { points: rectFromData(n, d, data), labels };
}

/** The O(n² d) definition: mean and population variance of −‖x_i − x_j‖² over n² pairs. */
function bruteMoments(p: RectMatrix): { mean: number; variance: number } {
  const s = negSquaredDistances(rectToRows(p)).data;
  let mean = 0;
  for (const v of s) mean += v;
  mean /= s.length;
  let variance = 0;
  for (const v of s) variance += (v - mean) ** 2;
  return { mean, variance: variance / s.length };
}

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(
    Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)),
    `${what}: ${a} vs ${b}`,
  );

Deno.test("pairMoments equals the O(n² d) sums over all n² ordered pairs", () => {
  for (const [n, d, seed] of [[2, 1, 1], [5, 3, 2], [40, 7, 3], [64, 16, 4]]) {
    const { points } = labelledPoints(n, d, 3, seed);
    // A far-off mean: the moments are translation invariant and must not lose digits to it.
    for (let t = 0; t < points.data.length; t++) points.data[t] += 1000;
    const got = pairMoments(points), want = bruteMoments(points);
    close(got.mean, want.mean, 1e-9, `mean n=${n} d=${d}`);
    close(got.variance, want.variance, 1e-8, `variance n=${n} d=${d}`);
  }
});

Deno.test("complete graph: loss, edge gradient and point gradient are the dense ones", async (t) => {
  const n = 14, d = 3, k = 3;
  const { points, labels } = labelledPoints(n, d, k, 11);
  // Class 0 gets one point in class 1's region, so the loss is positive.
  points.data.set([0, 3, 0], 0);
  const rows = rectToRows(points);
  const raw = negSquaredDistances(rows);
  const opts = { k, epsilon: 0.3, samples: 24, noise: "gaussian" as const };
  for (const std of [false, true]) {
    await t.step(`standardise: ${std}`, () => {
      // Dense oracle: Σ (standardised by lib/core/similarity.ts), partialFyLoss with the labels'
      // constraints, its gradient G pulled back by the standardisation and distance VJPs.
      const sigma = std ? standardise(raw) : raw;
      const dense = partialFyLoss(opts)(sigma, constraintsFromLabels(labels), 5);
      const gSigma = std ? standardiseVjp(raw, dense.grad) : dense.grad;
      const denseGrad = negSquaredDistancesVjp(rows, gSigma).flat();

      const g = completeGraph(raw); // row-major: the dense noise coordinates
      const got = partialFyLossOfPointsOnGraph({ ...opts, standardise: std })(points, g, labels, 5);
      assert.ok(dense.loss > 0.1, `dense loss ${dense.loss} should be clearly positive`);
      close(got.loss, dense.loss, 1e-9, "loss");
      for (let e = 0; e < g.from.length; e++) {
        const ij = g.from[e] * n + g.to[e];
        close(got.weights[e], sigma.data[ij], 1e-9, `weight ${e}`);
        close(got.edgeGrad[e], 2 * dense.grad.data[ij], 1e-12, `edge gradient ${e}`);
      }
      for (let i = 0; i < n * d; i++) close(got.grad[i], denseGrad[i], 1e-8, `∂/∂x[${i}]`);
    });
  }
});

/** Central differences of the loss in every coordinate, graph and noise fixed. */
function finiteDifferences(
  loss: (p: RectMatrix) => number,
  p: RectMatrix,
  h: number,
): Float64Array {
  const out = new Float64Array(p.data.length);
  for (let i = 0; i < p.data.length; i++) {
    const x = p.data.slice();
    x[i] += h;
    const up = loss(rectFromData(p.rows, p.cols, x));
    x[i] -= 2 * h;
    const down = loss(rectFromData(p.rows, p.cols, x));
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

Deno.test("gradient in the points matches central finite differences (float64)", async (t) => {
  const n = 18, d = 4, k = 3;
  const { points, labels } = labelledPoints(n, d, k, 21);
  // Mislabel two points so both solves disagree and the gradient is not zero.
  labels[0] = 1;
  labels[5] = 0;
  const g = labelledNeighbourGraph(points, labels, 3);
  for (const std of [false, true]) {
    await t.step(`standardise: ${std}`, () => {
      const f = partialFyLossOfPointsOnGraph({
        k,
        epsilon: 0.2,
        samples: 16,
        noise: "gaussian",
        standardise: std,
      });
      const at = f(points, g, labels, 9);
      assert.ok(at.loss > 0.1, `loss ${at.loss} should be clearly positive`);
      const fd = finiteDifferences((p) => f(p, g, labels, 9).loss, points, 1e-6);
      let scale = 0;
      for (const v of at.grad) scale = Math.max(scale, Math.abs(v));
      assert.ok(scale > 0.1, `gradient too small to test (${scale})`);
      for (let i = 0; i < fd.length; i++) {
        assert.ok(
          Math.abs(fd[i] - at.grad[i]) <= 1e-5 * scale,
          `∂/∂x[${i}]: analytic ${at.grad[i]}, finite difference ${fd[i]}`,
        );
      }
    });
  }
});

Deno.test("standardised loss is invariant to translating and scaling the points", () => {
  const { points, labels } = labelledPoints(30, 5, 4, 31);
  labels[1] = 3;
  const g = labelledNeighbourGraph(points, labels, 4);
  const f = partialFyLossOfPointsOnGraph({ k: 4, epsilon: 0.1, samples: 10, noise: "gaussian" });
  const base = f(points, g, labels, 2);
  const moved = rectFromData(30, 5, points.data.map((v, i) => 2.5 * v + (i % 5)));
  const other = f(moved, g, labels, 2);
  close(other.loss, base.loss, 1e-9, "loss");
  // Scaling x by 2.5 scales the gradient by 1/2.5 (the loss is 0-homogeneous).
  for (let i = 0; i < base.grad.length; i++) {
    close(2.5 * other.grad[i], base.grad[i], 1e-8, `∂/∂x[${i}]`);
  }
});

Deno.test("no label: zero loss and zero gradient", () => {
  const { points } = labelledPoints(12, 2, 3, 41);
  const labels = new Array<null>(12).fill(null);
  const g = labelledNeighbourGraph(points, labels, 3);
  const r = partialFyLossOfPointsOnGraph({ k: 3, epsilon: 0.1, samples: 6, noise: "gaussian" })(
    points,
    g,
    labels,
    0,
  );
  assert.equal(r.loss, 0);
  assert.ok(r.grad.every((v) => v === 0));
});

/** Whether every class's points are connected through edges inside the class. */
function classesConnected(g: Graph, labels: readonly number[]): boolean {
  for (const c of new Set(labels)) {
    const pts = labels.flatMap((l, i) => l === c ? [i] : []);
    const local = new Map(pts.map((p, t) => [p, t]));
    const edges: [number, number, number][] = [];
    for (let e = 0; e < g.from.length; e++) {
      const a = local.get(g.from[e]), b = local.get(g.to[e]);
      if (a !== undefined && b !== undefined) edges.push([a, b, 0]);
    }
    const sub = {
      n: pts.length,
      from: Int32Array.from(edges, (e) => e[0]),
      to: Int32Array.from(edges, (e) => e[1]),
      weight: new Float64Array(edges.length),
    };
    if (graphComponents(sub).count !== 1) return false;
  }
  return true;
}

Deno.test("labelledNeighbourGraph: kNN edges kept, every class joined, constrained solve feasible", () => {
  // Random labels: in the kNN graph alone the classes are scattered in pieces.
  const { points } = labelledPoints(120, 6, 1, 51);
  const labels = Array.from({ length: 120 }, (_, i) => (i * 7919) % 5);
  const knn = knnGraph(points, 4);
  assert.ok(!classesConnected(knn, labels), "test needs a kNN graph that splits a class");
  assert.throws(() => constrainedSpanningForestOnGraph(knn, 5, labels), InfeasibleConstraintsError);

  const g = labelledNeighbourGraph(points, labels, 4);
  assertGraph("graph", g);
  const find = edgeLookup(g);
  for (let e = 0; e < knn.from.length; e++) assert.notEqual(find(knn.from[e], knn.to[e]), -1);
  assert.equal(graphComponents(g).count, 1);
  assert.ok(classesConnected(g, labels));
  const f = constrainedSpanningForestOnGraph(g, 5, labels);
  assert.equal(new Set(f.labels).size, 5);
  // A graph whose classes are already connected comes back unchanged.
  assert.equal(joinClasses(g, points, labels), g);
});

Deno.test("bad input is refused with the argument and the value named", () => {
  const { points, labels } = labelledPoints(6, 2, 2, 61);
  assert.throws(
    () => labelledNeighbourGraph(points, labels, 0),
    /Invalid neighbours = 0: neighbours must be an integer in \[1, 5\] for a batch of n = 6/,
  );
  assert.throws(() => labelledNeighbourGraph(points, labels, 6), /Invalid neighbours = 6/);
  assert.throws(
    () => labelledNeighbourGraph(rectFromData(1, 2, new Float64Array(2)), [0], 1),
    /needs n ≥ 2 points, got n = 1/,
  );
  assert.throws(() => labelledNeighbourGraph(points, [0, 1], 2), /Invalid labels: length 2/);
  assert.throws(
    () =>
      partialFyLossOfPointsOnGraph({
        k: 2,
        epsilon: 0.1,
        samples: 2,
        noise: "gaussian",
        standardise: 1 as unknown as boolean,
      }),
    /Expected standardise to be a boolean, got 1/,
  );
  const g = labelledNeighbourGraph(points, labels, 2);
  const f = partialFyLossOfPointsOnGraph({ k: 2, epsilon: 0.1, samples: 2, noise: "gaussian" });
  assert.throws(
    () => f(rectFromData(5, 2, new Float64Array(10)), g, labels, 0),
    /Invalid points: 5 rows but the graph has n = 6 points/,
  );
});
