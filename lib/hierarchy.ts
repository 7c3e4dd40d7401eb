/**
 * Reading a single-linkage {@link Hierarchy} the ways users ask for: cut it at a similarity
 * threshold instead of a number of clusters, choose k from the largest gap between successive
 * merge similarities, and export it as a scipy linkage matrix Z (so scipy's `dendrogram`,
 * `fcluster`, `cophenet` work on it).
 *
 * @module
 */
import { assertIntegerInRange, show } from "./errors.ts";
import { DisjointSets, type Forest, forestAt, type Hierarchy } from "./spanning_forest.ts";

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
 * import { forestHierarchy, negSquaredDistances, kAtThreshold } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10], [11]]));
 * assert.equal(kAtThreshold(h, -1), 2); // pairs at squared distance ≤ 1 are joined
 * ```
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
 * import { cutAtThreshold, forestHierarchy, negSquaredDistances } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10], [11], [30]]));
 * assert.deepEqual([...cutAtThreshold(h, -(2 ** 2)).labels], [0, 0, 1, 1, 2]);
 * ```
 */
export function cutAtThreshold(h: Hierarchy, threshold: number): Forest {
  return forestAt(h, kAtThreshold(h, threshold));
}

/** What {@link chooseK} returns. */
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
 * import { chooseK, forestHierarchy, negSquaredDistances } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const x = [[0], [0.5], [1], [20], [20.5], [40], [41]];
 * assert.equal(chooseK(forestHierarchy(negSquaredDistances(x))).k, 3);
 * ```
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
 * import { forestHierarchy, linkageMatrix, negSquaredDistances } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchy(negSquaredDistances([[0], [1], [10]]));
 * assert.deepEqual(linkageMatrix(h, { distance: "sqrt-negate" }), [[0, 1, 1, 2], [2, 3, 9, 3]]);
 * ```
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
