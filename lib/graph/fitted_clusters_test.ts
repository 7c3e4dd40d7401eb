import assert from "node:assert/strict";
import { fitClusters, type FittedClusters } from "./fitted_clusters.ts";
import { assignPoints } from "./assign_points.ts";
import { rectFromData } from "../core/rect_matrix.ts";

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** n points around c centres in d dimensions (sums of uniforms), spread `spread`. */
function blobs(n: number, d: number, c: number, spread: number, seed: number): number[][] {
  const u = uniform(seed);
  const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => spread * u()));
  return Array.from(
    { length: n },
    (_, i) => centres[i % c].map((v) => v + (u() + u() + u() - 1.5) * (1 + (i % 3))),
  );
}

const d2 = (a: readonly number[], b: readonly number[]) => {
  let s = 0;
  for (let t = 0; t < a.length; t++) {
    const v = a[t] - b[t];
    s += v * v;
  }
  return s;
};

/** Brute-force single linkage: every pair, sorted by decreasing similarity, Kruskal. */
function merges(N: number, sim: (i: number, j: number) => number): [number, number, number][] {
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) pairs.push([i, j, sim(i, j)]);
  pairs.sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]);
  const parent = Array.from({ length: N }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  const out: [number, number, number][] = [];
  for (const [i, j, w] of pairs) {
    const a = find(i), b = find(j);
    if (a !== b) {
      parent[a] = b;
      out.push([i, j, w]);
    }
  }
  return out;
}

/** Components of N points joined by the merges `keep` accepts. */
function components(
  N: number,
  ms: [number, number, number][],
  keep: (t: number) => boolean,
): number[] {
  const parent = Array.from({ length: N }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  ms.forEach(([i, j], t) => {
    if (keep(t)) parent[find(i)] = find(j);
  });
  return Array.from({ length: N }, (_, i) => find(i));
}

/** The condensed-tree rule written out: undo the k − 1 weakest merges of two sides ≥ minSize. */
function minSizeCut(N: number, ms: [number, number, number][], k: number, minSize: number) {
  const parent = Array.from({ length: N }, (_, i) => i), size = new Array(N).fill(1);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  const genuine = ms.map(([i, j]) => {
    const a = find(i), b = find(j), g = Math.min(size[a], size[b]) >= minSize;
    parent[a] = b;
    size[b] += size[a];
    return g;
  });
  const undone = new Set<number>();
  for (let t = ms.length - 1; t >= 0 && undone.size < k - 1; t--) if (genuine[t]) undone.add(t);
  if (undone.size < k - 1) return null;
  return { labels: components(N, ms, (t) => !undone.has(t)), undone };
}

/** Same partition of the first n entries (labels may be numbered differently). */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>, n: number): boolean {
  const ab = new Map<number, number>(), ba = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

interface Oracle {
  /** Similarity between training points i, j, and of new point x to training point j. */
  readonly train: (i: number, j: number) => number;
  readonly toTrain: (x: readonly number[], j: number) => number;
}

function plainOracle(train: number[][]): Oracle {
  return { train: (i, j) => -d2(train[i], train[j]), toTrain: (x, j) => -d2(x, train[j]) };
}

/** Mutual reachability with core distances found by sorting every distance. */
function reachabilityOracle(train: number[][], minSamples: number): Oracle {
  const core = train.map((p, i) =>
    train.filter((_, j) => j !== i).map((q) => d2(p, q)).sort((a, b) => a - b)[minSamples - 1]
  );
  const coreOf = (x: readonly number[]) =>
    train.map((q) => d2(x, q)).sort((a, b) => a - b)[minSamples - 1];
  return {
    train: (i, j) => -Math.max(d2(train[i], train[j]), core[i], core[j]),
    toTrain: (x, j) => -Math.max(d2(x, train[j]), coreOf(x), core[j]),
  };
}

/**
 * The assignment property against brute force: s* and the most similar training point are the
 * brute-force ones (ties: smaller distance, then index); and for every x with s* > λ and no
 * training point of another cluster above λ, single linkage of train ∪ {x} at the same cut
 * keeps the training partition and puts x in the cluster assignPoints names. Returns how many
 * points the property was checked on.
 */
function checkAgainstBruteForce(
  model: FittedClusters,
  train: number[][],
  fresh: number[][],
  oracle: Oracle,
  what: string,
): number {
  const n = train.length, N = n + 1, { cut, lambda } = model;
  const reject = assignPoints(model, fresh, { outliers: "reject" });
  const nearest = assignPoints(model, fresh, { outliers: "nearest" });
  let checked = 0;
  fresh.forEach((x, q) => {
    const sims = train.map((_, j) => oracle.toTrain(x, j));
    let best = 0;
    for (let j = 1; j < n; j++) {
      if (
        sims[j] > sims[best] || (sims[j] === sims[best] && d2(x, train[j]) < d2(x, train[best]))
      ) {
        best = j;
      }
    }
    assert.equal(reject.similarity[q], sims[best], `${what}: s* of new point ${q}`);
    assert.equal(reject.nearest[q], best, `${what}: most similar training point of ${q}`);
    const label = model.labels[best];
    assert.equal(nearest.labels[q], label, `${what}: "nearest" label of ${q}`);
    assert.equal(reject.labels[q], sims[best] > lambda ? label : -1, `${what}: "reject" ${q}`);
    const bridge = sims.some((s, j) => s > lambda && model.labels[j] !== label);
    if (!(sims[best] > lambda) || bridge) return;
    const ms = merges(N, (i, j) => (j === n ? oracle.toTrain(x, i) : oracle.train(i, j)));
    let all: number[] | undefined;
    if (cut.kind === "k") all = components(N, ms, (t) => t < N - cut.k);
    else if (cut.kind === "threshold") all = components(N, ms, (t) => ms[t][2] >= cut.threshold);
    else all = minSizeCut(N, ms, cut.k, cut.minSize)?.labels;
    // A min-size cut can change with one more point (a side reaching minSize): the "same
    // cut" is then undefined, and the point is not counted.
    if (all === undefined || !samePartition(all, model.labels, n)) {
      assert.notEqual(cut.kind, "k", `${what}: the k-cut of train ∪ {x} moved (point ${q})`);
      assert.notEqual(cut.kind, "threshold", `${what}: the threshold cut moved (point ${q})`);
      return;
    }
    assert.equal(all[n], all[best], `${what}: point ${q} joins another cluster than ${label}`);
    checked++;
  });
  return checked;
}

function freshPoints(train: number[][], count: number, seed: number): number[][] {
  const u = uniform(seed), d = train[0].length;
  const lo = train[0].map((_, t) => Math.min(...train.map((p) => p[t])) - 5);
  const hi = train[0].map((_, t) => Math.max(...train.map((p) => p[t])) + 5);
  return Array.from(
    { length: count },
    (_, i) =>
      i % 2 === 0
        ? train[(i * 7) % train.length].map((v) => v + (u() - 0.5) * 2)
        : Array.from({ length: d }, (_, t) => lo[t] + (hi[t] - lo[t]) * u()),
  );
}

Deno.test("assignPoints equals single linkage of train ∪ {x} (brute force): k, threshold, min-size", () => {
  for (const [d, seed] of [[2, 1], [3, 2], [5, 3]]) {
    const train = blobs(90, d, 4, 30, seed), fresh = freshPoints(train, 60, seed + 10);
    const oracle = plainOracle(train);
    const byK = fitClusters(train, { k: 4 });
    assert.equal(byK.method, "dense");
    assert.ok(checkAgainstBruteForce(byK, train, fresh, oracle, `k d ${d}`) > 10);
    const level = byK.lambda * 0.3;
    const byT = fitClusters(train, { threshold: level });
    assert.equal(byT.lambda, level);
    assert.ok(checkAgainstBruteForce(byT, train, fresh, oracle, `threshold d ${d}`) > 10);
    const byMin = fitClusters(train, { k: 3, minSize: 5 });
    assert.ok(checkAgainstBruteForce(byMin, train, fresh, oracle, `min-size d ${d}`) > 10);
    if (d === 2) {
      const delaunay = fitClusters(train, { k: 4, method: "delaunay" });
      assert.deepEqual(delaunay.labels, byK.labels);
      assert.ok(checkAgainstBruteForce(delaunay, train, fresh, oracle, "delaunay") > 10);
    }
  }
});

Deno.test("assignPoints with mutual reachability: x's core is its minSamples-th training distance", () => {
  for (const [d, seed, minSamples] of [[2, 4, 3], [4, 5, 5]]) {
    const train = blobs(80, d, 3, 25, seed), fresh = freshPoints(train, 60, seed + 20);
    const oracle = reachabilityOracle(train, minSamples);
    const m = fitClusters(train, { k: 3, minSamples });
    assert.ok(checkAgainstBruteForce(m, train, fresh, oracle, `reachability d ${d}`) > 10);
    const t = fitClusters(train, { threshold: m.lambda * 0.5, minSamples });
    assert.ok(checkAgainstBruteForce(t, train, fresh, oracle, `reachability θ d ${d}`) > 10);
  }
});

Deno.test("assignPoints on kNN-graph fits is the exact nearest training point's label", () => {
  const train = blobs(2600, 6, 5, 40, 7), fresh = freshPoints(train, 120, 8);
  for (const method of ["knn", "nn-descent"] as const) {
    const model = fitClusters(train, { k: 5, method, neighbours: 6 });
    assert.equal(model.method, method);
    const a = assignPoints(model, fresh, { outliers: "reject" });
    fresh.forEach((x, q) => {
      let best = 0;
      for (let j = 1; j < train.length; j++) if (d2(x, train[j]) < d2(x, train[best])) best = j;
      assert.equal(a.nearest[q], best, `${method}: nearest of ${q}`);
      assert.equal(a.similarity[q], -d2(x, train[best]));
      assert.equal(a.labels[q], -d2(x, train[best]) > model.lambda ? model.labels[best] : -1);
    });
  }
});

Deno.test("fitClusters: λ of each cut, standardisation and cosine", () => {
  const pts = [[0], [1], [3], [10], [11], [30]];
  assert.equal(fitClusters(pts, { k: 3 }).lambda, -49); // 3 — 10 is cut
  assert.equal(fitClusters(pts, { k: 1 }).lambda, -Infinity);
  assert.equal(fitClusters(pts, { k: "largest-gap" }).cut.kind, "k");
  // Min size 2: the outlier 30 is no genuine split; the strongest undone split is 3 — 10.
  const ms = fitClusters(pts, { k: 2, minSize: 2 });
  assert.deepEqual([...ms.labels], [0, 0, 0, 1, 1, 1]);
  assert.equal(ms.lambda, -49);
  // Three groups and an outlier: the undone splits are 12 — 30 (−324) and 2 — 10 (−64).
  const three = [[0], [1], [2], [10], [11], [12], [30], [31], [32], [60]];
  const cut3 = fitClusters(three, { k: 3, minSize: 2 });
  assert.deepEqual([...cut3.labels], [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  assert.equal(cut3.lambda, -64);
  // Standardised: a training point maps to its own stored row, so it keeps its label.
  const train = blobs(120, 3, 3, 20, 9).map(([a, b, c]) => [1000 * a, b, c / 1000]);
  const st = fitClusters(train, { k: 3, standardise: true });
  assert.deepEqual(assignPoints(st, train).labels, st.labels);
  for (let t = 0; t < 3; t++) {
    const col = st.points.data.filter((_, i) => i % 3 === t);
    assert.ok(Math.abs(col.reduce((s, v) => s + v, 0) / col.length) < 1e-12);
  }
  // Cosine: the most similar training point maximises the cosine (computed independently).
  const dirs = blobs(100, 3, 4, 10, 12).map((p) => p.map((v) => v - 5));
  const cos = fitClusters(dirs, { k: 4, metric: "cosine" });
  const fresh = freshPoints(dirs, 40, 13);
  const a = assignPoints(cos, fresh);
  const cosine = (x: number[], y: number[]) =>
    x.reduce((s, v, t) => s + v * y[t], 0) / Math.hypot(...x) / Math.hypot(...y);
  fresh.forEach((x, q) => {
    const best = Math.max(...dirs.map((y) => cosine(x, y)));
    assert.ok(cosine(x, dirs[a.nearest[q]]) >= best - 1e-12, `cosine nearest of ${q}`);
    assert.ok(Math.abs(a.similarity[q] - (2 * best - 2)) < 1e-12);
  });
  // Scaling a point does not change its cosine assignment.
  assert.deepEqual(assignPoints(cos, fresh.map((x) => x.map((v) => 7 * v))).labels, a.labels);
});

Deno.test("fitClusters and assignPoints: bad input is a one-line typed error", () => {
  const pts = [[0, 0], [1, 0], [5, 5], [6, 5]];
  const model = fitClusters(pts, { k: 2 });
  const oneLine = (f: () => unknown, re: RegExp, type: ErrorConstructor = RangeError) =>
    assert.throws(f, (e: Error) => {
      assert.ok(e instanceof type, `${e.name}: ${e.message}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  oneLine(
    () => assignPoints(model, [[1, 2, 3]]),
    /Invalid newPoints: they have 3 coordinates .* 2/,
  );
  oneLine(() => assignPoints(model, [[1, NaN]]), /Invalid newPoints\[0\]\[1\] = NaN/);
  oneLine(() => assignPoints(model, []), /Invalid newPoints: at least one row/);
  oneLine(
    () => assignPoints(model, rectFromData(1, 2, new Float64Array([0, Infinity]))),
    /Invalid newPoints\[0\]\[1\] = Infinity/,
  );
  oneLine(() => assignPoints(model, [[0, 0]], { outliers: "drop" as "reject" }), /outliers/);
  oneLine(() => assignPoints({} as FittedClusters, [[0, 0]]), /Expected model/, TypeError);
  oneLine(() => fitClusters(pts, {}), /give k .* or threshold/);
  oneLine(() => fitClusters(pts, { k: 2, threshold: -1 }), /both given/);
  oneLine(
    () => fitClusters(pts, { threshold: -1, minSize: 2 }),
    /Invalid minSize = 2: .*numeric k/,
  );
  oneLine(() => fitClusters(pts, { k: 5 }), /Invalid k = 5/);
  oneLine(() => fitClusters(pts, { k: 2, metric: "l1" as "cosine" }), /Invalid metric = "l1"/);
  oneLine(() => fitClusters(pts, { k: 2, colums: ["a"] } as never), /Invalid option "colums"/);
  oneLine(() => fitClusters(pts, { k: 2, columns: ["a"] }), /Invalid columns: 1 names .* d = 2/);
  oneLine(() => fitClusters(pts, { k: 3, minSize: 2 }), /Invalid k = 3: .*only 2 clusters/);
  oneLine(() => fitClusters(pts, { k: 2, method: "hnsw" as "knn" }), /Invalid method = "hnsw"/);
  oneLine(() => fitClusters(pts, { k: 2, minSamples: 4 }), /Invalid minSamples = 4/);
  oneLine(() => fitClusters(pts, { k: 2, neighbours: 0 }), /Invalid neighbours = 0/);
  oneLine(
    () => fitClusters([[0, 0], [1, 1]], { k: 1, metric: "cosine" }),
    /Invalid points\[0\]: it is the zero vector/,
  );
});
