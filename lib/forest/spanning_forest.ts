/**
 * The maximum-weight k-spanning forest A*_k(Σ) (Definitions 2–3 of Stewart et al., 2023), its
 * cluster-connectivity matrix M*_k(Σ), and the whole single-linkage hierarchy k = n..1 from one
 * O(n²) pass.
 *
 * Why one pass suffices: forests form a matroid, so Kruskal's greedy stopped after n − k edges
 * is optimal for every k; its first n − k edges are exactly the n − k heaviest edges of a
 * maximum spanning tree. We therefore compute one maximum spanning tree with dense Prim
 * (O(n²) time, O(n) extra memory, no sort of the n² pairs) and sort its n − 1 edges.
 *
 * @module
 */
import { argsortDescending } from "../core/_argsort.ts";
import { assertIntegerInRange } from "../core/errors.ts";
import { connectivityFromLabels } from "../metrics/metrics.ts";
import { assertSimilarity, fromData, type Matrix } from "../core/matrix.ts";
import { primMaxSpanningTree } from "./_max_forest.ts";

/**
 * A k-spanning forest of the complete graph on n points and the clustering it induces.
 * `adjacency` and `connectivity` are n × n and built on first access only.
 *
 * @category Forests
 */
export interface Forest {
  /** Number of points. */
  readonly n: number;
  /** Number of connected components (clusters). */
  readonly k: number;
  /** The n − k edges as pairs [i, j] with i < j, heaviest first. */
  readonly edges: ReadonlyArray<readonly [number, number]>;
  /** Cluster id of each point, 0..k−1, numbered by first appearance. */
  readonly labels: Int32Array;
  /** ⟨A, Σ⟩ (Frobenius) = 2 × the sum of the chosen edge weights, so that ∇_Σ F_k = A*. */
  readonly value: number;
  /** A*: symmetric 0/1 adjacency, zero diagonal. */
  readonly adjacency: Matrix;
  /** M*: 1 iff i and j are in the same cluster, ones on the diagonal (Definition 3). */
  readonly connectivity: Matrix;
}

/**
 * Anything that maps a similarity matrix to a forest (unconstrained or constrained).
 *
 * @category Forests
 */
export type Solver = (sigma: Matrix) => Forest;

/**
 * The single-linkage hierarchy: the n − 1 edges of a maximum spanning tree in the order in
 * which they join clusters (decreasing similarity). The clustering into k clusters is given by
 * the first n − k merges, for every k.
 *
 * @category Forests
 */
export interface Hierarchy {
  /** Number of points. */
  readonly n: number;
  /** First endpoint of merge t (the smaller index). */
  readonly left: Int32Array;
  /** Second endpoint of merge t (the larger index). */
  readonly right: Int32Array;
  /** Similarity Σ[left[t], right[t]] of merge t; non-increasing in t. */
  readonly weights: Float64Array;
}

/**
 * Union–find with path halving and union by size, over flat typed arrays.
 *
 * @example
 * ```ts
 * import { DisjointSets } from "./spanning_forest.ts";
 * const s = new DisjointSets(3);
 * s.union(0, 2);
 * if (s.find(0) !== s.find(2) || s.count !== 2 || s.sizeOf(2) !== 2) throw new Error();
 * ```
 */
export class DisjointSets {
  readonly #parent: Int32Array;
  readonly #size: Int32Array;
  /** Number of disjoint sets currently. */
  count: number;
  /**
   * Creates n singleton sets.
   * @param n Number of singleton sets 0..n−1.
   */
  constructor(n: number) {
    this.#parent = new Int32Array(n);
    this.#size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.#parent[i] = i;
    this.count = n;
  }
  /**
   * Representative of the set holding `x`.
   * @param x Element.
   * @returns Its root.
   */
  find(x: number): number {
    const p = this.#parent;
    while (p[x] !== x) {
      p[x] = p[p[x]];
      x = p[x];
    }
    return x;
  }
  /**
   * Number of elements in the set holding `x`.
   * @param x Element.
   * @returns The size of its set (1 for a singleton).
   */
  sizeOf(x: number): number {
    return this.#size[this.find(x)];
  }
  /**
   * Merges the sets of `a` and `b`.
   * @param a Element.
   * @param b Element.
   * @returns The new root, or −1 if they were already together.
   */
  union(a: number, b: number): number {
    let ra = this.find(a), rb = this.find(b);
    if (ra === rb) return -1;
    if (this.#size[ra] < this.#size[rb]) [ra, rb] = [rb, ra];
    this.#parent[rb] = ra;
    this.#size[ra] += this.#size[rb];
    this.count--;
    return ra;
  }
}

/** Builds the hierarchy without validating `sigma` (callers validate once at the boundary). */
function hierarchyOf(sigma: Matrix): Hierarchy {
  const { n, data } = sigma;
  const parent = new Int32Array(n);
  const weight = new Float64Array(n);
  primMaxSpanningTree(data, n, parent, weight);
  const m = n - 1;
  // Heaviest first; equal weights keep vertex order, so the result is deterministic (a stable
  // radix argsort of the tree weights: no comparator callbacks).
  const order = argsortDescending(weight.subarray(1, n));
  for (let t = 0; t < m; t++) order[t] += 1;
  const left = new Int32Array(m), right = new Int32Array(m), weights = new Float64Array(m);
  for (let t = 0; t < m; t++) {
    const v = order[t], p = parent[v];
    left[t] = Math.min(v, p);
    right[t] = Math.max(v, p);
    weights[t] = weight[v];
  }
  return { n, left, right, weights };
}

/**
 * Cluster labels 0..c−1 numbered by first appearance, from a union–find over n points.
 *
 * @param sets The union–find.
 * @param n Number of points.
 * @returns One label per point.
 *
 * @example
 * ```ts
 * import { DisjointSets, labelsFromSets } from "./spanning_forest.ts";
 * const s = new DisjointSets(3);
 * s.union(1, 2);
 * if (labelsFromSets(s, 3).join() !== "0,1,1") throw new Error();
 * ```
 */
export function labelsFromSets(sets: DisjointSets, n: number): Int32Array {
  const labels = new Int32Array(n);
  const idOfRoot = new Int32Array(n).fill(-1);
  let next = 0;
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (idOfRoot[r] === -1) idOfRoot[r] = next++;
    labels[i] = idOfRoot[r];
  }
  return labels;
}

/** A forest whose n × n matrices are built on first access and then cached. */
class LazyForest implements Forest {
  readonly n: number;
  readonly k: number;
  readonly edges: ReadonlyArray<readonly [number, number]>;
  readonly labels: Int32Array;
  readonly value: number;
  #adjacency: Matrix | undefined;
  #connectivity: Matrix | undefined;
  constructor(
    n: number,
    edges: ReadonlyArray<readonly [number, number]>,
    labels: Int32Array,
    value: number,
  ) {
    this.n = n;
    this.k = n - edges.length;
    this.edges = edges;
    this.labels = labels;
    this.value = value;
  }
  get adjacency(): Matrix {
    if (this.#adjacency === undefined) {
      const n = this.n, a = new Float64Array(n * n);
      for (const [i, j] of this.edges) a[i * n + j] = a[j * n + i] = 1;
      this.#adjacency = fromData(n, a);
    }
    return this.#adjacency;
  }
  get connectivity(): Matrix {
    this.#connectivity ??= connectivityFromLabels(this.labels);
    return this.#connectivity;
  }
}

/**
 * Builds a {@link Forest} from its edge list (pairs with i < j). The edges must form a forest;
 * `value` is ⟨A, Σ⟩ = 2 Σ_edges Σ_ij.
 *
 * @param sigma The similarity matrix the value is measured on.
 * @param edges Edges of an acyclic graph on `sigma.n` points.
 * @returns The forest with labels numbered by first appearance.
 * @throws {RangeError} If an edge is out of range, a self-loop, or closes a cycle.
 *
 * @example A path on three points
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forestFromEdges } from "./spanning_forest.ts";
 * import assert from "node:assert/strict";
 * const f = forestFromEdges(matrix([[0, 2, 0], [2, 0, 3], [0, 3, 0]]), [[0, 1], [1, 2]]);
 * assert.equal(f.k, 1);
 * assert.equal(f.value, 10);
 * ```
 */
export function forestFromEdges(
  sigma: Matrix,
  edges: ReadonlyArray<readonly [number, number]>,
): Forest {
  const n = sigma.n;
  const sets = new DisjointSets(n);
  let value = 0;
  const out: (readonly [number, number])[] = [];
  for (let t = 0; t < edges.length; t++) {
    const [a, b] = edges[t];
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= n || b >= n) {
      throw new RangeError(
        `Invalid edges[${t}] = [${a}, ${b}]: endpoints must be in [0, ${n - 1}]`,
      );
    }
    if (a === b) throw new RangeError(`Invalid edges[${t}] = [${a}, ${b}]: self-loop`);
    if (sets.union(a, b) === -1) {
      throw new RangeError(`Invalid edges[${t}] = [${a}, ${b}]: it closes a cycle`);
    }
    const i = Math.min(a, b), j = Math.max(a, b);
    out.push([i, j]);
    value += 2 * sigma.data[i * n + j];
  }
  return new LazyForest(n, out, labelsFromSets(sets, n), value);
}

/**
 * The whole single-linkage hierarchy of Σ in one O(n²) pass: the n − 1 edges of a maximum
 * spanning tree in merge order. Read any level with {@link forestAt} or {@link labelsAt}.
 *
 * @param sigma Symmetric, finite similarity matrix (n ≥ 1).
 * @returns The hierarchy.
 * @throws {TypeError | RangeError} If `sigma` is not a valid similarity matrix.
 *
 * @example Every level from one pass
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forestAt, forestHierarchy } from "./spanning_forest.ts";
 * import assert from "node:assert/strict";
 * // Reference fixture: distances [[0,4,5],[4,0,3],[5,3,0]], Σ = −D.
 * const h = forestHierarchy(matrix([[0, -4, -5], [-4, 0, -3], [-5, -3, 0]]));
 * assert.deepEqual(forestAt(h, 3).edges, []);
 * assert.deepEqual(forestAt(h, 2).edges, [[1, 2]]);
 * assert.deepEqual(forestAt(h, 1).edges, [[1, 2], [0, 1]]);
 * ```
 *
 * @category Forests
 */
export function forestHierarchy(sigma: Matrix): Hierarchy {
  assertSimilarity("sigma", sigma);
  return hierarchyOf(sigma);
}

/**
 * {@link forestHierarchy} without validating `sigma` — for large inputs that are valid by
 * construction (validation reads Σ twice more, including a column-order symmetry check).
 * Garbage in, garbage out: a NaN or asymmetric input gives an unspecified hierarchy.
 *
 * @param sigma Symmetric, finite similarity matrix (not checked), n ≥ 1.
 * @returns The hierarchy.
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { unsafeForestHierarchy } from "./spanning_forest.ts";
 * const h = unsafeForestHierarchy(matrix([[0, -4, -5], [-4, 0, -3], [-5, -3, 0]]));
 * if (h.left.join() !== "1,0" || h.right.join() !== "2,1") throw new Error();
 * ```
 *
 * @category Forests
 */
export function unsafeForestHierarchy(sigma: Matrix): Hierarchy {
  return hierarchyOf(sigma);
}

function assertHierarchyLevel(h: Hierarchy, k: number): void {
  // A hierarchy of a disconnected graph (spanning_forest_on_graph.ts) has fewer than n − 1 merges.
  const coarsest = h.n - h.left.length;
  assertIntegerInRange(
    "k",
    k,
    coarsest,
    h.n,
    `for n = ${h.n}${coarsest > 1 ? ` (the graph has ${coarsest} connected components)` : ""}`,
  );
}

/**
 * Cluster labels at level k of a hierarchy (first n − k merges), numbered by first appearance.
 *
 * @param h A hierarchy from {@link forestHierarchy}.
 * @param k Number of clusters, an integer in [1, n].
 * @returns Labels 0..k−1.
 * @throws {RangeError} If `k` is not an integer in [1, n].
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forestHierarchy, labelsAt } from "./spanning_forest.ts";
 * const h = forestHierarchy(matrix([[0, -4, -5], [-4, 0, -3], [-5, -3, 0]]));
 * if (labelsAt(h, 2).join() !== "0,1,1") throw new Error();
 * ```
 *
 * @category Forests
 */
export function labelsAt(h: Hierarchy, k: number): Int32Array {
  assertHierarchyLevel(h, k);
  const sets = new DisjointSets(h.n);
  for (let t = 0; t < h.n - k; t++) sets.union(h.left[t], h.right[t]);
  return labelsFromSets(sets, h.n);
}

/**
 * The maximum-weight k-spanning forest read off a hierarchy without re-solving.
 *
 * @param h A hierarchy from {@link forestHierarchy}.
 * @param k Number of clusters, an integer in [1, n].
 * @returns The forest A*_k with its labels and value.
 * @throws {RangeError} If `k` is not an integer in [1, n].
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forestAt, forestHierarchy } from "./spanning_forest.ts";
 * const h = forestHierarchy(matrix([[0, 1, 0], [1, 0, 2], [0, 2, 0]]));
 * if (forestAt(h, 1).value !== 6) throw new Error();
 * ```
 *
 * @category Forests
 */
export function forestAt(h: Hierarchy, k: number): Forest {
  assertHierarchyLevel(h, k);
  const n = h.n, m = n - k;
  const sets = new DisjointSets(n);
  const edges: (readonly [number, number])[] = new Array(m);
  let value = 0;
  for (let t = 0; t < m; t++) {
    sets.union(h.left[t], h.right[t]);
    edges[t] = [h.left[t], h.right[t]];
    value += 2 * h.weights[t];
  }
  return new LazyForest(n, edges, labelsFromSets(sets, n), value);
}

/**
 * A*_k(Σ): the maximum-weight spanning forest with exactly k connected components
 * (Definition 2), whose components are the single-linkage clustering into k clusters, and whose
 * connectivity is M*_k(Σ) (Definition 3). Cost: O(n²) time, O(n) memory besides the result.
 *
 * @param sigma Symmetric, finite similarity matrix, n ≥ 1 (e.g. Σ_ij = −‖x_i − x_j‖²).
 * @param k Number of clusters, an integer in [1, n].
 * @returns The forest: edges, labels, value = ⟨A*, Σ⟩, adjacency A*, connectivity M*.
 * @throws {TypeError | RangeError} If `sigma` is not a valid similarity matrix or `k` is not an
 * integer in [1, n].
 *
 * @example Two clusters of points on a line
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "./spanning_forest.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2))));
 * const f = maxSpanningForest(sigma, 2);
 * assert.deepEqual([...f.labels], [0, 0, 1, 1]);
 * assert.equal(f.value, -4); // 2 × (−1 − 1)
 * ```
 *
 * @category Forests
 */
export function maxSpanningForest(sigma: Matrix, k: number): Forest {
  assertSimilarity("sigma", sigma);
  assertIntegerInRange("k", k, 1, sigma.n, `for n = ${sigma.n}`);
  return forestAt(hierarchyOf(sigma), k);
}

/**
 * {@link maxSpanningForest} without validating `sigma` — for hot loops whose inputs are valid by
 * construction (e.g. Σ + εZ with symmetric Z). Garbage in, garbage out: a NaN or asymmetric
 * input gives an unspecified forest.
 *
 * @param sigma Symmetric, finite similarity matrix (not checked).
 * @param k Number of clusters (checked: an integer in [1, n]).
 * @returns The forest.
 * @throws {RangeError} If `k` is not an integer in [1, n].
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { unsafeMaxSpanningForest } from "./spanning_forest.ts";
 * if (unsafeMaxSpanningForest(matrix([[0, 1], [1, 0]]), 1).edges.length !== 1) throw new Error();
 * ```
 *
 * @category Forests
 */
export function unsafeMaxSpanningForest(sigma: Matrix, k: number): Forest {
  assertIntegerInRange("k", k, 1, sigma.n, `for n = ${sigma.n}`);
  return forestAt(hierarchyOf(sigma), k);
}
