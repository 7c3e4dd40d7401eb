/**
 * Reading a single-linkage {@link Hierarchy} the ways users ask for: cut it at a similarity
 * threshold instead of a number of clusters, choose k from the largest gap between successive
 * merge similarities, and export it as a scipy linkage matrix Z (so scipy's `dendrogram`,
 * `fcluster`, `cophenet` work on it), and cut it into k clusters of at least a minimum size
 * ({@link cutAtMinSize}: HDBSCAN's condensed-tree rule, so that outliers do not use up the k
 * clusters).
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import {
  DisjointSets,
  type Forest,
  forestAt,
  type Hierarchy,
  labelsFromSets,
} from "./spanning_forest.ts";

function assertHierarchy(h: unknown): asserts h is Hierarchy {
  const x = h as Partial<Hierarchy> | null;
  if (
    typeof x !== "object" || x === null || typeof x.n !== "number" ||
    !(x.left instanceof Int32Array) || !(x.right instanceof Int32Array) ||
    !(x.weights instanceof Float64Array) || x.weights.length !== Math.max(0, x.n - 1)
  ) {
    throw new TypeError(
      `Expected h to be a Hierarchy from forestHierarchy(sigma), got ${show(h)}`,
    );
  }
}

/**
 * The number of clusters left when every merge of similarity ≥ `threshold` is made: the
 * clusters are the connected components of the graph of pairs with Σ_ij ≥ threshold (single
 * linkage). For Σ = −‖x_i − x_j‖², a threshold −t² joins points closer than t (scipy's
 * `fcluster(Z, t, "distance")` on `linkage(pdist(X), "single")`).
 *
 * @param h A hierarchy from `forestHierarchy`.
 * @param threshold Similarity threshold (finite).
 * @returns k in [1, n].
 * @throws {TypeError} If `h` is not a hierarchy.
 * @throws {RangeError} If `threshold` is not a finite number.
 *
 * @example
 * ```ts
 * import { forestHierarchy, negSquaredDistances, kAtThreshold } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10], [11]]));
 * assert.equal(kAtThreshold(h, -1), 2); // pairs at squared distance ≤ 1 are joined
 * ```
 *
 * @category Forests
 */
export function kAtThreshold(h: Hierarchy, threshold: number): number {
  assertHierarchy(h);
  if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
    throw new RangeError(`Invalid threshold = ${show(threshold)}: it must be a finite number`);
  }
  // Merge weights are non-increasing: count those ≥ threshold.
  let merges = 0;
  while (merges < h.n - 1 && h.weights[merges]! >= threshold) merges++;
  return h.n - merges;
}

/**
 * The single-linkage clustering at a similarity threshold (see {@link kAtThreshold}).
 *
 * @param h A hierarchy from `forestHierarchy`.
 * @param threshold Similarity threshold: pairs with Σ_ij ≥ threshold end in one cluster.
 * @returns The forest (labels, edges, value) with k = {@link kAtThreshold} trees.
 * @throws {TypeError} If `h` is not a hierarchy.
 * @throws {RangeError} If `threshold` is not a finite number.
 *
 * @example Cut at a distance of 2 on points of a line
 * ```ts
 * import { cutAtThreshold, forestHierarchy, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10], [11], [30]]));
 * assert.deepEqual([...cutAtThreshold(h, -(2 ** 2)).labels], [0, 0, 1, 1, 2]);
 * ```
 *
 * @category Forests
 */
export function cutAtThreshold(h: Hierarchy, threshold: number): Forest {
  return forestAt(h, kAtThreshold(h, threshold));
}

/**
 * What {@link chooseK} returns.
 *
 * @category Forests
 */
export interface KChoice {
  /** The chosen number of clusters. */
  readonly k: number;
  /**
   * Its gap: the similarity of the last merge made minus that of the first merge refused,
   * `weights[n − k − 1] − weights[n − k]` (in Σ's units; larger = better separated).
   */
  readonly gap: number;
  /** The gap of every k considered, `[k, gap]`, k ascending. */
  readonly gaps: readonly (readonly [number, number])[];
}

/**
 * Chooses k from the hierarchy's gaps: the k in [minK, maxK] whose clusters are joined by the
 * most similar merges and separated from the next merge by the largest drop in similarity
 * (the largest jump of a dendrogram). Ties go to the smaller k. A heuristic: it assumes the
 * clusters are better separated than their points are spread, and Σ's units matter (use a
 * standardised Σ to compare data sets).
 *
 * @param h A hierarchy from `forestHierarchy`, n ≥ 3.
 * @param opts `minK` (default 2) and `maxK` (default n − 1): the range searched.
 * @returns The chosen k, its gap and every gap.
 * @throws {TypeError} If `h` is not a hierarchy.
 * @throws {RangeError} If n < 3, or the range is empty or outside [2, n − 1].
 *
 * @example Three groups on a line
 * ```ts
 * import { chooseK, forestHierarchy, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const x = [[0], [0.5], [1], [20], [20.5], [40], [41]];
 * assert.equal(chooseK(forestHierarchy(negSquaredDistances(x))).k, 3);
 * ```
 *
 * @category Forests
 */
export function chooseK(
  h: Hierarchy,
  opts: { readonly minK?: number; readonly maxK?: number } = {},
): KChoice {
  assertHierarchy(h);
  const n = h.n;
  if (n < 3) {
    throw new RangeError(`Invalid h: n = ${n} points, choosing k from gaps needs n ≥ 3`);
  }
  const minK = opts.minK ?? 2;
  assertIntegerInRange("minK", minK, 2, n - 1, `for n = ${n}`);
  const maxK = opts.maxK ?? n - 1;
  assertIntegerInRange("maxK", maxK, minK, n - 1, `for n = ${n} and minK = ${minK}`);
  const gaps: [number, number][] = [];
  let best: [number, number] | null = null;
  for (let k = minK; k <= maxK; k++) {
    const gap = h.weights[n - k - 1]! - h.weights[n - k]!;
    gaps.push([k, gap]);
    if (best === null || gap > best[1]) best = [k, gap];
  }
  return { k: best![0], gap: best![1], gaps };
}

/**
 * The hierarchy as a scipy linkage matrix Z ((n − 1) × 4, row-major): row t merges clusters
 * `Z[t][0] < Z[t][1]` (0..n−1 are points, n + s is the cluster formed by row s) at distance
 * `Z[t][2]` into a cluster of `Z[t][3]` points — what `scipy.cluster.hierarchy.linkage`
 * returns, so `dendrogram(Z)`, `fcluster(Z, …)` and `cophenet(Z)` accept it.
 *
 * Distances must not decrease along the rows: `distance` maps a merge similarity to a
 * distance and must be non-increasing. The default `"negate"` gives −Σ_ij; `"sqrt-negate"`
 * gives √(−Σ_ij), which for Σ = −‖x_i − x_j‖² equals scipy's `linkage(pdist(X), "single")`
 * (checked against scipy in the tests).
 *
 * @param h A hierarchy from `forestHierarchy`.
 * @param opts `distance`: `"negate"` (default), `"sqrt-negate"`, or a function.
 * @returns Z as an array of rows `[a, b, distance, size]`.
 * @throws {TypeError} If `h` is not a hierarchy.
 * @throws {RangeError} If a distance is not finite or the distances decrease.
 *
 * @example
 * ```ts
 * import { forestHierarchy, linkageMatrix, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10]]));
 * assert.deepEqual(linkageMatrix(h, { distance: "sqrt-negate" }), [[0, 1, 1, 2], [2, 3, 9, 3]]);
 * ```
 *
 * @category Forests
 */
export function linkageMatrix(
  h: Hierarchy,
  opts: {
    readonly distance?: "negate" | "sqrt-negate" | ((similarity: number) => number);
  } = {},
): [number, number, number, number][] {
  assertHierarchy(h);
  const d = opts.distance ?? "negate";
  const toDistance = d === "negate"
    ? (w: number) => -w
    : d === "sqrt-negate"
    ? (w: number) => Math.sqrt(Math.max(0, -w))
    : d;
  if (typeof toDistance !== "function") {
    throw new TypeError(
      `Expected opts.distance to be "negate", "sqrt-negate" or a function, got ${show(d)}`,
    );
  }
  const n = h.n;
  const sets = new DisjointSets(n);
  const id = Int32Array.from({ length: n }, (_, i) => i); // root → scipy cluster id
  const size = new Int32Array(n).fill(1);
  const z: [number, number, number, number][] = [];
  let prev = -Infinity;
  for (let t = 0; t < n - 1; t++) {
    const ra = sets.find(h.left[t]!), rb = sets.find(h.right[t]!);
    const a = id[ra]!, b = id[rb]!, s = size[ra]! + size[rb]!;
    const dist = toDistance(h.weights[t]!);
    if (!Number.isFinite(dist) || dist < prev) {
      throw new RangeError(
        `Invalid distance ${show(dist)} for merge ${t} (similarity ${h.weights[t]}): distances ` +
          `must be finite and non-decreasing (previous ${prev})`,
      );
    }
    prev = dist;
    sets.union(ra, rb);
    const r = sets.find(ra);
    id[r] = n + t;
    size[r] = s;
    z.push([Math.min(a, b), Math.max(a, b), dist, s]);
  }
  return z;
}

/**
 * Checks a hierarchy of any number of components: `n` points, m ≤ n − 1 merges with endpoints
 * in [0, n) and non-increasing weights (acyclicity is checked by the caller's union–find pass).
 */
function assertForestHierarchy(h: unknown): asserts h is Hierarchy {
  const x = h as Partial<Hierarchy> | null;
  if (
    typeof x !== "object" || x === null || typeof x.n !== "number" ||
    !Number.isInteger(x.n) || x.n < 1 || !(x.left instanceof Int32Array) ||
    !(x.right instanceof Int32Array) || !(x.weights instanceof Float64Array) ||
    x.left.length !== x.weights.length || x.right.length !== x.weights.length ||
    x.weights.length > x.n - 1
  ) {
    throw new TypeError(
      `Expected h to be a Hierarchy from forestHierarchy(sigma) or forestHierarchyOnGraph(g), got ${
        show(h)
      }`,
    );
  }
  const { n, left, right, weights } = x as Hierarchy;
  for (let t = 0; t < weights.length; t++) {
    const a = left[t]!, b = right[t]!;
    if (a < 0 || b < 0 || a >= n || b >= n || a === b) {
      throw new RangeError(
        `Invalid h: merge ${t} joins points ${a} and ${b}; two distinct points in [0, ${
          n - 1
        }] are needed`,
      );
    }
    if (t > 0 && !(weights[t]! <= weights[t - 1]!)) {
      throw new RangeError(
        `Invalid h: merge ${t} has similarity ${show(weights[t])} after ${
          show(weights[t - 1])
        }; merge similarities must be non-increasing (a hierarchy lists its merges heaviest first)`,
      );
    }
  }
}

/** Which merges are genuine splits at `minSize`, and the components (see {@link cutAtMinSize}). */
interface Condensed {
  /** 1 where merge t joins two clusters of ≥ minSize points each. */
  readonly genuine: Uint8Array;
  /** How many merges are genuine. */
  readonly count: number;
  /** Connected components c (n − number of merges). */
  readonly components: number;
}

/** The validation and the bottom-up union–find pass shared by the two public functions. */
function condense(h: Hierarchy, minSize: number): Condensed {
  assertForestHierarchy(h);
  const { n, left, right } = h, m = left.length;
  assertIntegerInRange("minSize", minSize, 1, n, `for n = ${n} points`);
  const sets = new DisjointSets(n), genuine = new Uint8Array(m);
  let count = 0;
  for (let t = 0; t < m; t++) {
    const a = sets.find(left[t]!), b = sets.find(right[t]!);
    if (a === b) {
      throw new RangeError(
        `Invalid h: merge ${t} joins points ${left[t]} and ${
          right[t]
        }, already joined by earlier merges (the merges of a hierarchy form a forest)`,
      );
    }
    if (Math.min(sets.sizeOf(a), sets.sizeOf(b)) >= minSize) {
      genuine[t] = 1;
      count++;
    }
    sets.union(a, b);
  }
  // A connected component is a cluster whatever the cut: it must be large enough itself.
  let small = -1;
  for (let i = 0; i < n; i++) {
    if (sets.find(i) === i && sets.sizeOf(i) < minSize) {
      if (small === -1 || sets.sizeOf(i) < sets.sizeOf(small)) small = i;
    }
  }
  if (small !== -1) {
    const root = sets.find(small);
    let first = 0;
    while (sets.find(first) !== root) first++;
    throw new RangeError(
      `Invalid minSize = ${minSize}: the hierarchy's graph has a connected component of only ${
        sets.sizeOf(root)
      } points (the one holding point ${first}), which no cut can merge into a larger cluster ` +
        `(join the graph's components, e.g. joinComponents, or lower minSize)`,
    );
  }
  return { genuine, count, components: n - m };
}

/**
 * The most clusters {@link cutAtMinSize} can make at `minSize`: the number of connected
 * components c (1 for `forestHierarchy`) plus the number of genuine splits, i.e. merges that
 * join two clusters of at least `minSize` points each. O(n α(n)).
 *
 * @param h A hierarchy from `forestHierarchy` or `forestHierarchyOnGraph` (possibly disconnected).
 * @param minSize The minimum cluster size, an integer in [1, n].
 * @returns The largest k that `cutAtMinSize(h, k, minSize)` accepts.
 * @throws {TypeError | RangeError} If `h` is not a hierarchy, `minSize` is not an integer in
 * [1, n], or a connected component holds fewer than `minSize` points.
 *
 * @example Two groups of three and an outlier: two clusters of ≥ 2 points, seven of ≥ 1
 * ```ts
 * import { forestHierarchy, maxClustersAtMinSize, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [2], [10], [11], [12], [30]]));
 * assert.equal(maxClustersAtMinSize(h, 2), 2);
 * assert.equal(maxClustersAtMinSize(h, 1), 7);
 * ```
 *
 * @category Forests
 */
export function maxClustersAtMinSize(h: Hierarchy, minSize: number): number {
  const c = condense(h, minSize);
  return c.components + c.count;
}

/**
 * What {@link cutAtMinSize} returns.
 *
 * @category Forests
 */
export interface MinSizeCut {
  /** Cluster of every point, 0..k−1, numbered by first appearance (as `labelsAt`). */
  readonly labels: Int32Array;
  /** Points in each cluster, indexed by label; every one is ≥ `minSize`. */
  readonly sizes: Int32Array;
  /** The merges undone (indices t into the hierarchy), weakest first: k − c of them. */
  readonly splits: Int32Array;
}

/**
 * Cuts a single-linkage hierarchy into k clusters of at least `minSize` points each: the
 * condensed-tree rule of HDBSCAN (Campello et al., 2013) and robust single linkage (Chaudhuri &
 * Dasgupta, 2010), so that the k − 1 weakest tree edges, which in a large data set isolate
 * outliers, do not use up the k clusters.
 *
 * Semantics. Read top-down, merge t (weakest = last) splits a cluster in two: the sides are the
 * two clusters it joins, of sizes a and b just before it (the two components of tree edge t
 * once every weaker edge is removed). It is a genuine split iff min(a, b) ≥ `minSize`;
 * otherwise it is no split, and the smaller side's points stay with the larger side. The cut
 * undoes the k − c weakest genuine splits (c = number of connected components, 1 for
 * `forestHierarchy`) and keeps every other merge: the clusters are the components of the
 * spanning forest without those k − c edges. So a point cut off by a non-genuine split follows
 * its tree edge: it stays with the side it was split from, whichever cluster that side later
 * ends in. Every cluster holds ≥ `minSize` points (each contains a whole side of a genuine
 * split, or is a component). Order and ties: "weaker" means later in the hierarchy's merge
 * order (index t), the deterministic order `labelsAt` uses, so equal similarities are broken
 * as the hierarchy broke them. `minSize` = 1 makes every merge genuine: the result is
 * `labelsAt(h, k)`. Unlike HDBSCAN, nothing is labelled noise and k is given, not chosen by
 * stability.
 *
 * Errors instead of a coarser partition: if fewer than k clusters of ≥ `minSize` points exist
 * (c plus the genuine splits, {@link maxClustersAtMinSize}) a RangeError names k, `minSize` and
 * that number; a connected component smaller than `minSize` is a RangeError too (no cut can
 * enlarge it). O(n α(n)) after the hierarchy: two union–find passes, no n × n.
 *
 * @param h A hierarchy from `forestHierarchy` or `forestHierarchyOnGraph` (possibly disconnected).
 * @param k Number of clusters, an integer in [c, n].
 * @param minSize The minimum cluster size, an integer in [1, n].
 * @returns Labels 0..k−1, cluster sizes, and the merges undone.
 * @throws {TypeError} If `h` is not a hierarchy.
 * @throws {RangeError} One line naming the argument and its value: `minSize` not an integer in
 * [1, n], `k` not an integer in [c, n], more clusters than exist at `minSize`, a component
 * smaller than `minSize`, or a malformed hierarchy.
 *
 * @example Two groups and a far outlier: plain single linkage isolates the outlier
 * ```ts
 * import { cutAtMinSize, forestHierarchy, labelsAt, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [2], [10], [11], [12], [30]]));
 * assert.deepEqual([...labelsAt(h, 2)], [0, 0, 0, 0, 0, 0, 1]);
 * const cut = cutAtMinSize(h, 2, 2);
 * // The outlier (point 6) stays with the side it was split from: 12's group.
 * assert.deepEqual([...cut.labels], [0, 0, 0, 1, 1, 1, 1]);
 * assert.deepEqual([...cut.sizes], [3, 4]);
 * assert.throws(() => cutAtMinSize(h, 3, 2), /Invalid k = 3: .*only 2 clusters/);
 * ```
 *
 * @category Forests
 */
export function cutAtMinSize(h: Hierarchy, k: number, minSize: number): MinSizeCut {
  const { genuine, count, components } = condense(h, minSize);
  const n = h.n, m = h.left.length;
  assertIntegerInRange(
    "k",
    k,
    components,
    n,
    `for n = ${n}${components > 1 ? ` (the graph has ${components} connected components)` : ""}`,
  );
  if (k > components + count) {
    throw new RangeError(
      `Invalid k = ${k}: with minSize = ${minSize} the hierarchy has only ${
        components + count
      } clusters of at least ${minSize} points (ask for fewer clusters or a smaller minSize)`,
    );
  }
  const splits = new Int32Array(k - components), cut = new Uint8Array(m);
  for (let t = m - 1, s = 0; s < splits.length; t--) {
    if (genuine[t] === 1) {
      splits[s++] = t;
      cut[t] = 1;
    }
  }
  const sets = new DisjointSets(n);
  for (let t = 0; t < m; t++) if (cut[t] === 0) sets.union(h.left[t]!, h.right[t]!);
  const labels = labelsFromSets(sets, n), sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;
  return { labels, sizes, splits };
}
