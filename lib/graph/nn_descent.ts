/**
 * Approximate k nearest neighbours by NN-descent (Dong, Moses & Li, 2011) started from random
 * projection trees — the algorithm of pynndescent, written here in TypeScript so that it runs
 * in the pure core (browser-usable, no native code). Chosen by measurement against the npm
 * candidates (70 000 × 32-d Gaussian mixture, k = 15, one process, 2-core machine under load):
 * `usearch@2.26.2` (HNSW, a Node-API addon: works in Deno but not in a browser) took 107 s at
 * recall 0.982 (connectivity 16, expansion 64, one thread) where this took 40 s at recall 0.959;
 * `hnswlib-wasm@0.8.2` does not run in Deno (its Emscripten build is web-only: "not compiled for
 * this environment"); `hnswlib-node@3.0.0` is a Node-API addon that Deno runs only from a local
 * node_modules with install scripts allowed.
 *
 * 1. Initialisation: `trees` random projection trees (split by the hyperplane bisecting two
 *    random points until a leaf has ≤ `leafSize` points); all pairs inside a leaf are offered
 *    to both points' lists. Near neighbours usually share a leaf, so most lists start close.
 * 2. Descent: "a neighbour of my neighbour is likely my neighbour". Each round, every point
 *    joins its new candidates (neighbours not yet explored, sampled to `maxCandidates`, both
 *    directions) with each other and with its old ones; each improvement counts. Stops when a
 *    round improves fewer than `delta · n · k` entries or after `maxIterations`.
 *
 * Deterministic for a given seed. Memory O(n · (k + maxCandidates)). Recall against exact
 * neighbours is measured in bench/ and checked (with its binomial tolerance) in the tests.
 *
 * @module
 */
import { assertIntegerInRange, assertPositiveFinite, show } from "../core/errors.ts";
import { type Neighbours, type ProgressCallback, squaredDistance } from "./point_graphs.ts";
import { type PointsLike, toRectMatrix } from "../core/rect_matrix.ts";

/**
 * Options of {@link approximateNeighbours}.
 *
 * @category Graphs of points
 */
export interface NnDescentOptions {
  /** Neighbours per point, an integer in [1, n − 1]. */
  readonly k: number;
  /** 32-bit seed (default 0). */
  readonly seed?: number;
  /** Number of random projection trees for the start (default 4). */
  readonly trees?: number;
  /** Largest leaf of the trees (default max(2k, 24)). */
  readonly leafSize?: number;
  /** Largest number of rounds (default 12). */
  readonly maxIterations?: number;
  /** Stop when a round changes fewer than delta · n · k entries (default 0.001). */
  readonly delta?: number;
  /** Candidates sampled per point and round (default min(60, max(k, 16))). */
  readonly maxCandidates?: number;
  /**
   * Length of the lists kept during the search (default ⌈2.7k⌉, at least k): the k nearest are
   * returned. Longer lists find more true neighbours of neighbours (recall) at more cost;
   * measured on 70 000 Gaussian-mixture points in 32-d, k = 15: recall 0.944 with 30, 0.965
   * with 40.
   */
  readonly searchK?: number;
  /** Progress callback (stages "rp-trees" and "nn-descent"). */
  readonly onProgress?: ProgressCallback;
}

/** A small xorshift generator: NN-descent needs cheap, reproducible integers. */
function rng(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Per-point max-heaps of (distance², index, isNew), root = farthest kept neighbour. */
class NeighbourHeaps {
  readonly index: Int32Array;
  readonly dist: Float64Array;
  readonly fresh: Uint8Array;
  constructor(readonly n: number, readonly k: number) {
    this.index = new Int32Array(n * k).fill(-1);
    this.dist = new Float64Array(n * k).fill(Infinity);
    this.fresh = new Uint8Array(n * k);
  }
  /** Offers j to i's list; returns 1 if the list changed. */
  push(i: number, j: number, d: number): number {
    const k = this.k, row = i * k, dist = this.dist, index = this.index;
    if (!(d < dist[row])) return 0;
    for (let t = 0; t < k; t++) if (index[row + t] === j) return 0;
    // Replace the root and sift down.
    let p = 0;
    for (;;) {
      const l = 2 * p + 1, r = l + 1;
      let big = p, bigD = d;
      if (l < k && dist[row + l] > bigD) {
        big = l;
        bigD = dist[row + l];
      }
      if (r < k && dist[row + r] > bigD) big = r;
      if (big === p) break;
      dist[row + p] = dist[row + big];
      index[row + p] = index[row + big];
      this.fresh[row + p] = this.fresh[row + big];
      p = big;
    }
    dist[row + p] = d;
    index[row + p] = j;
    this.fresh[row + p] = 1;
    return 1;
  }
}

/** Candidate lists with reservoir sampling, `cap` per point. */
class Candidates {
  readonly list: Int32Array;
  readonly count: Int32Array;
  readonly seen: Int32Array;
  constructor(readonly n: number, readonly cap: number) {
    this.list = new Int32Array(n * cap);
    this.count = new Int32Array(n);
    this.seen = new Int32Array(n);
  }
  clear(): void {
    this.count.fill(0);
    this.seen.fill(0);
  }
  add(i: number, j: number, next: () => number): void {
    const cap = this.cap, row = i * cap, c = this.count[i];
    for (let t = 0; t < c; t++) if (this.list[row + t] === j) return;
    const s = ++this.seen[i];
    if (c < cap) {
      this.list[row + c] = j;
      this.count[i] = c + 1;
    } else {
      const r = next() % s;
      if (r < cap) this.list[row + r] = j;
    }
  }
  has(i: number, j: number): boolean {
    const row = i * this.cap, c = this.count[i];
    for (let t = 0; t < c; t++) if (this.list[row + t] === j) return true;
    return false;
  }
}

/**
 * One random projection tree over all n points: `perm` ends in leaf order and `leaf(lo, hi)` is
 * called for each leaf perm[lo..hi). Each split is the hyperplane bisecting two random points of
 * the node (a random half split when all its points coincide).
 */
function rpTree(
  x: Float64Array,
  d: number,
  leafSize: number,
  next: () => number,
  perm: Int32Array,
  side: Uint8Array,
  leaf: (lo: number, hi: number) => void,
): void {
  const n = perm.length, normal = new Float64Array(d), stack: number[] = [0, n];
  for (let i = 0; i < n; i++) perm[i] = i;
  while (stack.length > 0) {
    const hi = stack.pop()!, lo = stack.pop()!, size = hi - lo;
    if (size <= leafSize) {
      leaf(lo, hi);
      continue;
    }
    const a = perm[lo + (next() % size)], b = perm[lo + (next() % size)];
    // (x − (a + b)/2) · (a − b) > 0  ⇔  x · normal > offset.
    let offset = 0;
    for (let t = 0; t < d; t++) {
      normal[t] = x[a * d + t] - x[b * d + t];
      offset += 0.5 * (x[a * d + t] + x[b * d + t]) * normal[t];
    }
    let left = 0;
    for (let s = lo; s < hi; s++) {
      const i = perm[s], row = i * d;
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x[row + t] * normal[t];
      side[i] = dot > offset || (dot === offset && (next() & 1) === 1) ? 1 : 0;
      left += side[i];
    }
    if (left === 0 || left === size) {
      left = size >> 1; // coincident points (or a = b): split at random positions
      for (let s = lo; s < hi; s++) side[perm[s]] = s - lo < left ? 1 : 0;
    }
    const tmp = perm.slice(lo, hi);
    let w = lo;
    for (const i of tmp) if (side[i] === 1) perm[w++] = i;
    for (const i of tmp) if (side[i] === 0) perm[w++] = i;
    stack.push(lo, lo + left, lo + left, hi);
  }
}

/**
 * Approximate k nearest neighbours of every point (see the module doc). Typical recall on
 * clustered data is ≥ 0.95 at the defaults (bench/graph_bench.ts measures it).
 *
 * @param points n × d coordinates.
 * @param opts k and the search options.
 * @returns Neighbour lists, nearest first (each point's list excludes itself).
 * @throws {TypeError | RangeError} If `points` is not a finite point set or an option is out of
 * range (the message names it).
 *
 * @example Agrees with the exact neighbours on a small set
 * ```ts
 * import { approximateNeighbours } from "./nn_descent.ts";
 * import { exactNeighbours } from "./point_graphs.ts";
 * import assert from "node:assert/strict";
 * const pts = Array.from({ length: 200 }, (_, i) => [Math.cos(i), Math.sin(i * 1.3), i % 7]);
 * const a = approximateNeighbours(pts, { k: 5, seed: 1 }), e = exactNeighbours(pts, 5);
 * let hits = 0;
 * for (let i = 0; i < 200; i++) {
 *   const truth = new Set(e.index.subarray(i * 5, i * 5 + 5));
 *   for (const j of a.index.subarray(i * 5, i * 5 + 5)) if (truth.has(j)) hits++;
 * }
 * assert.ok(hits / 1000 > 0.9);
 * ```
 *
 * @category Graphs of points
 */
export function approximateNeighbours(points: PointsLike, opts: NnDescentOptions): Neighbours {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(`Expected opts to be an object, got ${show(opts)}`);
  }
  const p = toRectMatrix(points, "points");
  const n = p.rows, d = p.cols;
  let k = opts.k;
  assertIntegerInRange("k", k, 1, Math.max(1, n - 1), `for n = ${n} points`);
  const seed = opts.seed ?? 0;
  assertIntegerInRange("seed", seed, -0x80000000, 0xffffffff);
  const trees = opts.trees ?? 4;
  assertIntegerInRange("trees", trees, 0, 1000);
  const leafSize = opts.leafSize ?? Math.max(2 * k, 24);
  assertIntegerInRange("leafSize", leafSize, 2, 1 << 20);
  const maxIterations = opts.maxIterations ?? 12;
  assertIntegerInRange("maxIterations", maxIterations, 0, 10_000);
  const delta = opts.delta ?? 0.001;
  assertPositiveFinite("delta", delta);
  const cap = opts.maxCandidates ?? Math.min(60, Math.max(k, 16));
  assertIntegerInRange("maxCandidates", cap, 1, 10_000);
  const searchK = opts.searchK ?? Math.max(k, Math.min(Math.ceil(2.7 * k), n - 1));
  assertIntegerInRange("searchK", searchK, k, Math.max(k, n - 1), `(at least k = ${k})`);
  const onProgress = opts.onProgress;
  const next = rng(seed);
  const out = k;
  k = searchK;
  // Work on the points reordered by the leaves of one tree, so that neighbours mostly sit
  // close in memory (the descent reads random rows otherwise: cache misses dominate).
  const position = new Int32Array(n);
  rpTree(p.data, d, leafSize, next, position, new Uint8Array(n), () => {});
  const x = new Float64Array(n * d);
  for (let q = 0; q < n; q++) x.set(p.data.subarray(position[q] * d, position[q] * d + d), q * d);
  const heaps = new NeighbourHeaps(n, k);
  const dist = (i: number, j: number) => squaredDistance(x, d, i, j);
  /** ‖x_i − x_j‖², or any value ≥ `bound` once the partial sum reaches it (then unused). */
  const boundedDist = (i: number, j: number, bound: number) => {
    let s = 0;
    const a = i * d, b = j * d;
    let t = 0;
    for (; t + 8 <= d; t += 8) {
      for (let u = t; u < t + 8; u++) {
        const v = x[a + u] - x[b + u];
        s += v * v;
      }
      if (s >= bound) return s;
    }
    for (; t < d; t++) {
      const v = x[a + t] - x[b + t];
      s += v * v;
    }
    return s;
  };
  // 1. Random projection trees; every leaf's pairs seed the lists.
  const perm = new Int32Array(n), side = new Uint8Array(n);
  for (let tree = 0; tree < trees; tree++) {
    rpTree(x, d, leafSize, next, perm, side, (lo, hi) => {
      for (let s = lo; s < hi; s++) {
        for (let t = s + 1; t < hi; t++) {
          const i = perm[s], j = perm[t], dij = dist(i, j);
          heaps.push(i, j, dij);
          heaps.push(j, i, dij);
        }
      }
    });
    onProgress?.({ stage: "rp-trees", done: tree + 1, total: trees });
  }
  // Points still short of k neighbours (e.g. trees = 0): random fill.
  for (let i = 0; i < n; i++) {
    for (let tries = 0; heaps.index[i * k] === -1 && tries < 4 * k + 16; tries++) {
      const j = next() % n;
      if (j !== i) heaps.push(i, j, dist(i, j));
    }
  }
  // 2. Descent.
  const fresh = new Candidates(n, cap), old = new Candidates(n, cap);
  for (let iter = 0; iter < maxIterations; iter++) {
    fresh.clear();
    old.clear();
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        const j = heaps.index[i * k + t];
        if (j < 0) continue;
        if (heaps.fresh[i * k + t]) {
          fresh.add(i, j, next);
          fresh.add(j, i, next);
        } else {
          old.add(i, j, next);
          old.add(j, i, next);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        const r = i * k + t;
        if (heaps.fresh[r] && fresh.has(i, heaps.index[r])) heaps.fresh[r] = 0;
      }
    }
    let changes = 0;
    for (let v = 0; v < n; v++) {
      const nr = v * cap, nc = fresh.count[v], oc = old.count[v];
      for (let s = 0; s < nc; s++) {
        const a = fresh.list[nr + s];
        for (let t = s + 1; t < nc; t++) {
          const b = fresh.list[nr + t];
          const bound = Math.max(heaps.dist[a * k], heaps.dist[b * k]);
          const dab = boundedDist(a, b, bound);
          if (dab < bound) changes += heaps.push(a, b, dab) + heaps.push(b, a, dab);
        }
        for (let t = 0; t < oc; t++) {
          const b = old.list[nr + t];
          if (a === b) continue;
          const bound = Math.max(heaps.dist[a * k], heaps.dist[b * k]);
          const dab = boundedDist(a, b, bound);
          if (dab < bound) changes += heaps.push(a, b, dab) + heaps.push(b, a, dab);
        }
      }
    }
    onProgress?.({ stage: "nn-descent", done: iter + 1, total: maxIterations });
    if (changes <= delta * n * k) break;
  }
  // Sort each list by distance (ties by index) and keep the `out` nearest.
  const index = new Int32Array(n * out), distance2 = new Float64Array(n * out);
  const order = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    for (let t = 0; t < k; t++) order[t] = t;
    order.sort((s, t) =>
      heaps.dist[row + s] - heaps.dist[row + t] || heaps.index[row + s] - heaps.index[row + t]
    );
    const orig = position[i] * out;
    for (let t = 0; t < out; t++) {
      const j = heaps.index[row + order[t]];
      index[orig + t] = j < 0 ? -1 : position[j];
      distance2[orig + t] = heaps.dist[row + order[t]];
    }
  }
  return { n, k: out, index, distance2 };
}
