import assert from "node:assert/strict";
import { matrix } from "../core/matrix.ts";
import { maxSpanningForest } from "../forest/spanning_forest.ts";
import { graphComponents } from "./graph.ts";
import { maxSpanningForestOnGraph } from "../forest/spanning_forest_on_graph.ts";
import {
  delaunayGraph,
  exactNeighbours,
  joinComponents,
  knnGraph,
  mutualReachability,
  neighbourGraph,
} from "./point_graphs.ts";
import { approximateNeighbours } from "./nn_descent.ts";
import { clusterPoints, EXACT_KNN_MAX_POINTS } from "./cluster_points.ts";
import { jsGemm, type NeighbourGemm } from "./exact_neighbours.ts";
import { samePartition } from "../../props/brute_force.ts";

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const dist2 = (a: readonly number[], b: readonly number[]) =>
  a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0);

/** Dense single linkage through the dense solver (the oracle). */
function denseLabels(pts: number[][], k: number): Int32Array {
  return maxSpanningForest(matrix(pts.map((a) => pts.map((b) => -dist2(a, b)))), k).labels;
}

Deno.test("delaunayGraph: its forests are exact single linkage at every k", () => {
  for (const seed of [1, 2, 3]) {
    const u = uniform(seed), n = 150;
    const pts = Array.from({ length: n }, () => [u(), u()]);
    const g = delaunayGraph(pts);
    assert.equal(graphComponents(g).count, 1);
    assert.ok(g.from.length <= 3 * n - 6);
    for (const k of [1, 2, 3, 7, 20, 75, n]) {
      assert.ok(
        samePartition(maxSpanningForestOnGraph(g, k).labels, denseLabels(pts, k)),
        `k = ${k}`,
      );
    }
  }
});

Deno.test("delaunayGraph: collinear points, duplicates, tiny inputs", () => {
  const line = [[0, 0], [3, 3], [1, 1], [7, 7], [1.5, 1.5]]; // distinct gaps: no ties
  const g = delaunayGraph(line);
  for (let k = 1; k <= 5; k++) {
    assert.ok(samePartition(maxSpanningForestOnGraph(g, k).labels, denseLabels(line, k)));
  }
  const dup = [[0, 0], [1, 0], [0, 1], [1, 0], [5, 5], [0, 0]];
  const gd = delaunayGraph(dup);
  assert.equal(graphComponents(gd).count, 1);
  const dense = maxSpanningForest(matrix(dup.map((a) => dup.map((b) => -dist2(a, b)))), 3);
  assert.equal(maxSpanningForestOnGraph(gd, 3).value, dense.value);
  assert.equal(delaunayGraph([[1, 2]]).from.length, 0);
  for (const same of [[[1, 2], [1, 2]], [[1, 2], [1, 2], [1, 2], [3, 4], [3, 4]]]) {
    assert.equal(graphComponents(delaunayGraph(same)).count, 1, `${same.length} points`);
  }
  assert.equal(delaunayGraph([[1, 2], [3, 4]]).from.length, 1);
  assert.throws(() => delaunayGraph([[1, 2, 3]]), /needs 2-d points/);
  assert.throws(() => delaunayGraph([[1, NaN]]), /points\[0\]\[1\] = NaN/);
});

Deno.test("exactNeighbours equals sorting all distances", () => {
  const u = uniform(7), n = 130, d = 5, k = 6;
  const pts = Array.from({ length: n }, () => Array.from({ length: d }, () => Math.round(u() * 4)));
  const nb = exactNeighbours(pts, k);
  for (let i = 0; i < n; i++) {
    const order = [...Array(n).keys()].filter((j) => j !== i)
      .sort((a, b) => dist2(pts[i], pts[a]) - dist2(pts[i], pts[b]) || a - b);
    assert.deepEqual([...nb.index.subarray(i * k, i * k + k)], order.slice(0, k));
    assert.deepEqual(
      [...nb.distance2.subarray(i * k, i * k + k)],
      order.slice(0, k).map((j) => dist2(pts[i], pts[j])),
    );
  }
  assert.throws(() => exactNeighbours(pts, n), /Invalid k = 130/);
  const g = knnGraph(pts, k);
  for (let e = 0; e < g.from.length; e++) {
    assert.equal(g.weight[e], -dist2(pts[g.from[e]], pts[g.to[e]]));
  }
});

Deno.test("approximateNeighbours: high recall on clustered data, deterministic per seed", () => {
  const u = uniform(11), n = 3000, d = 8, k = 10;
  const centres = Array.from({ length: 5 }, () => Array.from({ length: d }, () => 10 * u()));
  const pts = Array.from({ length: n }, (_, i) => centres[i % 5].map((c) => c + u()));
  const a = approximateNeighbours(pts, { k, seed: 3 });
  const b = approximateNeighbours(pts, { k, seed: 3 });
  assert.deepEqual(a.index, b.index);
  const exact = exactNeighbours(pts, k);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const truth = new Set(exact.index.subarray(i * k, i * k + k));
    for (const j of a.index.subarray(i * k, i * k + k)) if (truth.has(j)) hits++;
    for (let t = 0; t < k; t++) {
      assert.equal(a.distance2[i * k + t], dist2(pts[i], pts[a.index[i * k + t]]));
    }
  }
  // A regression bound (the algorithm is deterministic for a seed); bench/ measures at scale.
  assert.ok(hits / (n * k) >= 0.95, `recall ${hits / (n * k)}`);
  assert.throws(() => approximateNeighbours(pts, { k: 5, searchK: 4 }), /Invalid searchK = 4/);
  assert.throws(() => approximateNeighbours(pts, { k: 0 }), /Invalid k = 0/);
});

Deno.test("joinComponents: spans, keeps every original edge, joins by real distances", () => {
  const pts = [[0, 0], [0, 1], [10, 0], [10, 1], [30, 0]];
  const g = knnGraph(pts, 1);
  assert.equal(graphComponents(g).count, 2); // {0, 1} and {2, 3, 4}
  const j = joinComponents(g, pts);
  assert.equal(graphComponents(j).count, 1);
  assert.equal(j.from.length, g.from.length + 1);
  assert.deepEqual([...j.from.subarray(0, g.from.length)], [...g.from]);
  for (let e = 0; e < j.from.length; e++) {
    assert.equal(j.weight[e], -dist2(pts[j.from[e]], pts[j.to[e]]));
  }
  // Clusters at k = 3 are the three groups.
  assert.deepEqual([...maxSpanningForestOnGraph(j, 3).labels], [0, 0, 1, 1, 2]);
  assert.equal(joinComponents(j, pts), j);
  assert.throws(() => joinComponents(g, [[0, 0]]), /1 rows but the graph has n = 5/);
});

Deno.test("mutualReachability: the HDBSCAN definition, and a bridge no longer chains", () => {
  // Two 11 × 11 grids (spacing 0.1) joined by a line of points 0.075 apart: single linkage chains
  // them (the line is tighter than the grids); a line point's 8th neighbour is 0.3 away, more
  // than any grid point's (≤ 0.283), so mutual reachability cuts the line.
  const grid = (x0: number) =>
    Array.from({ length: 121 }, (_, i) => [x0 + (i % 11) / 10, Math.floor(i / 11) / 10]);
  const line = Array.from({ length: 39 }, (_, i) => [(1000 + 75 * (i + 1)) / 1000, 0.5]);
  const pts = [...grid(0), ...line, ...grid(4)];
  const nb = exactNeighbours(pts, 10);
  const g = mutualReachability(neighbourGraph(nb), nb, 8);
  const core = pts.map((p) => pts.map((q) => dist2(p, q)).sort((a, b) => a - b)[8]);
  for (let e = 0; e < g.from.length; e++) {
    const i = g.from[e], j = g.to[e];
    assert.equal(g.weight[e], -Math.max(dist2(pts[i], pts[j]), core[i], core[j]));
  }
  // Single linkage at k = 2 removes one grid edge (0.1 > 0.075): the line still chains points
  // of both grids (the junction points 120 − 11·5 … are next to it) into one cluster.
  const single = clusterPoints(pts, 2, { method: "knn", neighbours: 10 }).labels;
  assert.equal(single[65], single[121 + 39 + 55]); // the grid points that touch the line
  // Mutual reachability: the line's edges are now the weakest; once the ≤ 39 line points that
  // hang as leaves have dropped off, the two grids are apart.
  const robust = clusterPoints(pts, 41, { method: "knn", neighbours: 10, minSamples: 8 }).labels;
  assert.notEqual(robust[65], robust[121 + 39 + 55]);
  assert.notEqual(robust[60], robust[220]);
  assert.throws(() => mutualReachability(g, nb, 11), /Invalid minSamples = 11/);
});

Deno.test("clusterPoints: every method gives single linkage on separated blobs", () => {
  const u = uniform(9);
  const pts = Array.from(
    { length: 400 },
    (_, i) => [(i % 4) * 20 + u(), Math.floor(i / 200) * 50 + u()],
  );
  const truth = denseLabels(pts, 8);
  const stages: string[] = [];
  for (const method of ["dense", "delaunay", "knn", "nn-descent"] as const) {
    const r = clusterPoints(pts, 8, { method, onProgress: (p) => stages.push(p.stage) });
    assert.equal(r.method, method);
    assert.ok(samePartition(r.labels, truth), method);
    assert.equal(r.forest.k, 8);
  }
  assert.ok(stages.includes("forest") && stages.includes("nn-descent"));
  assert.equal(clusterPoints(pts, 2).method, "dense");
  assert.throws(() => clusterPoints(pts, 0), /Invalid k = 0/);
  assert.throws(() => clusterPoints(pts, 2, { method: "kd-tree" as "knn" }), /Invalid method/);
  assert.throws(
    () => clusterPoints(pts, 2, { method: "delaunay", minSamples: 3 }),
    /mutual reachability needs a kNN method/,
  );
  assert.throws(() => clusterPoints([[0, 0, 0], [1, 1, 1]], 1, { method: "delaunay" }), /2-d/);
  assert.deepEqual([...clusterPoints([[3, 4]], 1, { method: "knn" }).labels], [0]);
});

Deno.test("clusterPoints: an injected gemm gives the same clustering, and raises auto's exact limit", () => {
  const u = uniform(21), d = 5;
  const pts = Array.from(
    { length: 600 },
    (_, i) => Array.from({ length: d }, () => (i % 3) * 4 + u()),
  );
  let products = 0;
  const gemm: NeighbourGemm = {
    precision: "float32",
    multiply(m, n, dd, a, b, c) {
      products++;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let t = 0; t < dd; t++) {
            s = Math.fround(s + Math.fround(a[i * dd + t] * b[j * dd + t]));
          }
          c[i * n + j] = s;
        }
      }
    },
  };
  for (const options of [{ method: "knn" }, { method: "dense", minSamples: 4 }] as const) {
    const plain = clusterPoints(pts, 3, options),
      withGemm = clusterPoints(pts, 3, { ...options, gemm });
    assert.deepEqual(withGemm.labels, plain.labels);
    assert.deepEqual(withGemm.hierarchy.weights, plain.hierarchy.weights);
    assert.deepEqual(withGemm.graph?.weight, plain.graph?.weight);
  }
  assert.ok(products > 0);
  // Above EXACT_KNN_MAX_POINTS, auto picks the exact search only when given a product.
  const big = Array.from({ length: EXACT_KNN_MAX_POINTS + 1 }, () => [u(), u(), u()]);
  assert.equal(clusterPoints(big, 2, { gemm: jsGemm, neighbours: 3 }).method, "knn");
  assert.throws(
    () => clusterPoints(pts, 2, { method: "delaunay", gemm: {} as NeighbourGemm }),
    /^TypeError: Expected gemm to be \{ precision/,
  );
});
