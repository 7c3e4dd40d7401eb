import assert from "node:assert/strict";
import {
  drawLabelled,
  evaluateDataset,
  formatDatasetEvaluation,
  transductiveAccuracy,
} from "./dataset_eval.ts";
import { standardNormal, streamFor, uniformOpen01 } from "../lib/core/random.ts";
import { multiplyAbT, type NeighbourGemm } from "../lib/graph/exact_neighbours.ts";

/**
 * `blobs` Gaussian blobs of `per` points in d dimensions, centres 20 apart on the axes, standard
 * deviation 0.1 (so every within-blob distance is far below every between-blob one), points in
 * a seeded shuffled order; class c = `classOf[c]`.
 */
function blobs(blobs: number, per: number, d: number, classOf: readonly number[], seed = 1) {
  const n = blobs * per, rng = streamFor(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniformOpen01(rng) * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const x = new Float64Array(n * d), labels = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const b = order[r]! % blobs;
    labels[r] = classOf[b]!;
    for (let t = 0; t < d; t++) {
      x[r * d + t] = (t === b % d ? 20 * (1 + Math.floor(b / d)) : 0) + 0.1 * standardNormal(rng);
    }
  }
  return { x, n, labels };
}

const withoutSeconds = <T extends { seconds: unknown }>(r: T) => ({ ...r, seconds: null });

Deno.test("evaluateDataset recovers well-separated blobs exactly and labels them from one label each", () => {
  // Classes 7, 3, 9, 0, 5: not 0..4, and not the clusters' numbering (Hungarian matching needed).
  const { x, n, labels } = blobs(5, 60, 8, [7, 3, 9, 0, 5]);
  // A fraction so small that the Bernoulli draw gives no label: each class then gets exactly one.
  const r = evaluateDataset(x, n, 8, labels, 5, { labelledFraction: 1e-9 });
  assert.equal(r.images, 300);
  assert.equal(r.dim, 8);
  assert.equal(r.search, "exact");
  // 15-NN inside blobs of 60: the kNN graph has one component per blob; joined, it spans.
  assert.equal(r.components, 5);
  // Default minimum cluster size ⌈300 / (4 × 5)⌉ = 15: no split is refused, k clusters made.
  assert.deepEqual([r.singleLinkageMinSize.minSize, r.singleLinkageMinSize.clusters], [15, 5]);
  for (const s of [r.singleLinkage, r.mutualReachability, r.singleLinkageMinSize]) {
    assert.equal(s.acc, 1);
    assert.ok(Math.abs(s.nmi - 1) < 1e-12 && Math.abs(s.ari - 1) < 1e-12, JSON.stringify(s));
    assert.equal(s.largest, 60);
  }
  assert.equal(r.transductive.labelled, 5);
  assert.equal(r.transductive.accuracy, 1);
  // Deterministic: the same input gives the same figures (only the timings move).
  assert.deepEqual(
    withoutSeconds(evaluateDataset(x, n, 8, labels, 5, { labelledFraction: 1e-9 })),
    withoutSeconds(r),
  );
  // NN-descent finds the same neighbours here.
  const nnd = evaluateDataset(x, n, 8, labels, 5, { search: "nn-descent" });
  assert.equal(nnd.search, "nn-descent");
  assert.equal(nnd.singleLinkage.acc, 1);
  assert.equal(nnd.transductive.accuracy, 1);
  assert.equal(formatDatasetEvaluation(r).length, 4);
});

Deno.test("evaluateDataset: k below the number of classes merges blobs (ACC drops), it is not ignored", () => {
  const { x, n, labels } = blobs(4, 30, 4, [0, 1, 2, 3]);
  const r = evaluateDataset(x, n, 4, labels, 3);
  // 3 clusters for 4 equal classes: at best 3 of 4 blobs matched.
  assert.equal(r.singleLinkage.acc, 0.75);
  assert.equal(r.singleLinkage.largest, 60);
});

/**
 * Two dense 7 × 7 grids (spacing 0.1) 3.1 apart, joined by a chain of 9 points 0.25 apart, and a
 * satellite point 0.4 off the left grid. Classes: 0 = left grid + satellite, 1 = right grid,
 * 2 = the chain.
 *
 * Single linkage at k = 2 cuts its longest tree edge, the satellite's 0.4 (every chain gap is
 * 0.25). Mutual reachability (minSamples 10) does not separate the grids either: the chain's
 * middle point has the unique largest core distance, 5 × 0.25 = 1.25 (its 10th neighbour is 5
 * chain steps away; its two neighbours' are ≈ 1.005, the satellite's ≈ 0.51), and the edge that
 * skips it, 0.5 long between points of core ≈ 1.005, is stronger than both of its own, so it is a
 * leaf of the tree and the k = 2 cut isolates it. A flat cut of mutual reachability isolates the
 * point of lowest density (why HDBSCAN reads clusters off its condensed tree instead); we found
 * no bridge it cuts where single linkage fails, so the test pins what each does.
 */
function bridgedGrids() {
  const pts: number[][] = [], labels: number[] = [];
  for (const [dx, c] of [[0, 0], [3.1, 1]] as const) {
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) {
        pts.push([dx + 0.1 * i, 0.1 * j]);
        labels.push(c);
      }
    }
  }
  for (let i = 0; i < 9; i++) {
    pts.push([0.85 + 0.25 * i, 0.3]);
    labels.push(2);
  }
  pts.push([-0.4, 0.3]);
  labels.push(0);
  return { x: Float64Array.from(pts.flat()), n: pts.length, labels };
}

Deno.test("single linkage and mutual reachability at k = 2 each cut off their own single point", () => {
  const { x, n, labels } = bridgedGrids();
  assert.equal(n, 108);
  const r = evaluateDataset(x, n, 2, labels, 2);
  assert.equal(r.singleLinkage.largest, n - 1);
  assert.equal(r.mutualReachability.largest, n - 1);
  // Singleton = the satellite (class 0): the best matching pairs it with class 0 and the rest
  // with class 1 (49 points) → 50 of 108. Singleton = a chain point (class 2): it matches class
  // 2 and the rest class 0 (50 points) → 51 of 108. Were the variant computed on the plain kNN
  // graph, both would read 50/108.
  assert.equal(r.singleLinkage.acc, 50 / 108);
  assert.equal(r.mutualReachability.acc, 51 / 108);
  // With a minimum cluster size (default ⌈108 / 8⌉ = 14) the satellite's split is refused and
  // a chain edge (both sides ≥ 49 points) is cut: left grid + satellite + some chain points
  // against the rest, which the best matching scores 50 + 49 of 108 whichever chain edge it is.
  assert.equal(r.singleLinkageMinSize.minSize, 14);
  assert.equal(r.singleLinkageMinSize.acc, 99 / 108);
  assert.ok(r.singleLinkageMinSize.largest <= 59, `${r.singleLinkageMinSize.largest}`);
});

/**
 * {@link blobs} (5 blobs of 60 points, centres 20·e_b) plus one outlier per blob at 60·e_b, of the
 * blob's class: 40 from its own blob's centre, ≥ 63 from any other, so its tree edge goes to
 * its own blob and is longer than the ≈ 28.3 edges that join the blobs.
 */
function blobsWithOutliers() {
  const { x, n, labels } = blobs(5, 60, 8, [0, 1, 2, 3, 4]);
  const ox = new Float64Array((n + 5) * 8), ol = new Int32Array(n + 5);
  ox.set(x);
  ol.set(labels);
  for (let b = 0; b < 5; b++) {
    ox[(n + b) * 8 + b] = 60;
    ol[n + b] = b;
  }
  return { x: ox, n: n + 5, labels: ol };
}

Deno.test("planted outliers: single linkage isolates them, the minimum-size cut recovers the blobs", () => {
  const { x, n, labels } = blobsWithOutliers();
  const r = evaluateDataset(x, n, 8, labels, 5);
  // The 4 weakest tree edges are outlier edges: one cluster of 301 points and 4 singletons.
  assert.equal(r.singleLinkage.largest, 301);
  assert.equal(r.singleLinkage.acc, 65 / 305);
  // ⌈305 / 20⌉ = 16: the outliers' splits are refused, each stays with its own blob.
  assert.deepEqual([r.singleLinkageMinSize.minSize, r.singleLinkageMinSize.clusters], [16, 5]);
  assert.equal(r.singleLinkageMinSize.acc, 1);
  assert.ok(Math.abs(r.singleLinkageMinSize.ari - 1) < 1e-12);
  assert.equal(r.singleLinkageMinSize.largest, 61);
  // minClusterSize 1 is plain single linkage; above half the points, no split is genuine.
  const one = evaluateDataset(x, n, 8, labels, 5, { minClusterSize: 1 });
  assert.deepEqual(
    { ...one.singleLinkageMinSize, minSize: 0, clusters: 0 },
    { ...r.singleLinkage, minSize: 0, clusters: 0 },
  );
  const big = evaluateDataset(x, n, 8, labels, 5, { minClusterSize: 153 });
  assert.deepEqual([big.singleLinkageMinSize.clusters, big.singleLinkageMinSize.largest], [1, n]);
  assert.match(
    formatDatasetEvaluation(big)[2]!,
    /^single linkage, clusters of ≥ 153 points, k = 5: ACC [\d.]+, .* \(only 1 cluster of ≥ 153 points exist\)$/,
  );
});

Deno.test("drawLabelled: the script's Bernoulli draw, plus one label for every class it missed", () => {
  const rng = streamFor(3);
  const truth = Int32Array.from({ length: 5000 }, () => Math.floor(uniformOpen01(rng) * 10));
  const given = drawLabelled(truth, 0.02, 15);
  // Identical to what scripts/transductive_mnist.ts drew before the per-class fill existed (one
  // uniform per point from streamFor(seed)): its published figures stay reproducible.
  const old = streamFor(15);
  const expected = Int32Array.from(truth, (l) => (uniformOpen01(old) < 0.02 ? l : -1));
  assert.deepEqual(given, expected);
  const labelled = [...given].filter((l) => l !== -1).length;
  // Binomial(5000, 0.02): mean 100, sd 9.9.
  assert.ok(labelled > 60 && labelled < 140, `${labelled} labels`);
  for (let i = 0; i < truth.length; i++) assert.ok(given[i] === -1 || given[i] === truth[i]);
  assert.notDeepEqual(drawLabelled(truth, 0.02, 16), given);
  // A rare class the draw misses still gets exactly one label, one of its own points.
  const rare = Int32Array.from({ length: 1000 }, (_, i) => (i === 500 || i === 900 ? 4 : i % 2));
  const g = drawLabelled(rare, 0.01, 15);
  assert.equal([...g].filter((l) => l === 4).length, 1);
  assert.ok(g[500] === 4 || g[900] === 4);
});

Deno.test("transductiveAccuracy scores only the unlabelled points; no label reached counts as wrong", () => {
  const given = Int32Array.from([0, -1, -1, -1]);
  assert.equal(transductiveAccuracy([0, 0, 1, 1], [0, 0, 1, 1], given), 1);
  // The given point is not scored even if predicted wrong.
  assert.equal(transductiveAccuracy([9, 0, 1, 1], [0, 0, 1, 1], given), 1);
  assert.equal(transductiveAccuracy([0, 0, 1, null], [0, 0, 1, 1], given), 2 / 3);
  assert.throws(
    () => transductiveAccuracy([0, 1], [0, 1], Int32Array.from([0, 1])),
    /all 2 points are labelled/,
  );
});

Deno.test("evaluateDataset: bad input is a one-line error naming the argument and its value", () => {
  const { x, n, labels } = blobs(2, 10, 2, [0, 1]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => evaluateDataset(x, n, 2, labels, 21),
      /^Invalid k = 21: k must be an integer in \[1, 20\] for n = 20 points$/,
    ],
    [() => evaluateDataset(x, n, 2, labels, 0), /Invalid k = 0/],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { neighbours: 20 }),
      /Invalid neighbours = 20: .*\[1, 19\]/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { minSamples: 16 }),
      /Invalid minSamples = 16: .*\(neighbours = 15\)/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { minClusterSize: 0 }),
      /^Invalid minClusterSize = 0: .*\[1, 20\] for n = 20 points$/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { minClusterSize: 21 }),
      /^Invalid minClusterSize = 21/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { labelledFraction: 1 }),
      /Invalid labelledFraction = 1/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { labelledFraction: 0 }),
      /Invalid labelledFraction = 0/,
    ],
    [
      () => evaluateDataset(x, n, 3, labels, 2),
      /Invalid embeddings = Float64Array of length 40: .* 20 × 3 = 60/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels.slice(1), 2),
      /Invalid labels: length 19, expected n = 20/,
    ],
    [() => evaluateDataset(x, 1, 40, [0], 1), /Invalid n = 1/],
    [
      () => evaluateDataset(x, n, 2, Int32Array.from(labels, (l) => l - 1), 2),
      /Invalid labels\[\d+\] = -1/,
    ],
    [
      () => evaluateDataset(x, n, 2, labels, 2, { search: "hnsw" as "exact" }),
      /Invalid search = "hnsw"/,
    ],
  ];
  for (const [f, pattern] of cases) {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
  const nan = x.slice();
  nan[7] = NaN;
  assert.throws(() => evaluateDataset(nan, n, 2, labels, 2), /embeddings.*\[3\]\[1\]/);
});

Deno.test("evaluateDataset: an injected gemm gives the same figures; a bad one is a TypeError", () => {
  const { x, n, labels } = blobs(4, 50, 6, [0, 1, 2, 3]);
  let calls = 0;
  const gemm: NeighbourGemm = {
    precision: "float64",
    multiply: (m, w, d, a, b, c) => {
      calls++;
      multiplyAbT(m, w, d, a, b, c);
    },
  };
  const plain = evaluateDataset(x, n, 6, labels, 4, { labelledFraction: 0.05 });
  const viaGemm = evaluateDataset(x, n, 6, labels, 4, { labelledFraction: 0.05, gemm });
  assert.ok(calls > 0);
  assert.deepEqual(withoutSeconds(viaGemm), withoutSeconds(plain));
  assert.throws(
    () => evaluateDataset(x, n, 6, labels, 4, { gemm: { precision: "float64" } as NeighbourGemm }),
    /^TypeError: Expected gemm to be \{ precision/,
  );
});
