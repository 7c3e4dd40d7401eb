/**
 * The maximum-weight k-spanning forest (Definition 2 of Stewart et al., 2023) and the whole
 * single-linkage hierarchy on a sparse {@link Graph}: Kruskal over the m edges sorted once by
 * decreasing weight (a stable O(m) radix argsort), O(m α(n)) union–find.
 *
 * Why one pass still suffices: the forests of a graph form a matroid, so Kruskal stopped after
 * t accepted edges is optimal among forests with t edges — for every t at once. A graph with c
 * connected components has k-forests for k ∈ [c, n] only; its hierarchy has n − c merges.
 *
 * Forests on graphs carry edge indices, labels and value (O(n) memory); the n × n `adjacency`
 * and `connectivity` of the {@link Forest} interface are built only if read.
 *
 * On a complete graph ({@link completeGraph}) with distinct weights these are the dense solvers'
 * forests edge for edge (checked in props/); with ties both are optimal (same value) but may
 * pick different edges: the dense hierarchy breaks ties by Prim vertex, this one by edge index.
 *
 * @module
 */
import { argsortDescending } from "../core/_argsort.ts";
import { assertIntegerInRange } from "../core/errors.ts";
import { connectivityFromLabels } from "../metrics/metrics.ts";
import { assertGraph, type Graph } from "../graph/graph.ts";
import { fromData, type Matrix } from "../core/matrix.ts";
import { DisjointSets, type Forest, type Hierarchy, labelsFromSets } from "./spanning_forest.ts";

/**
 * A forest of a graph: a {@link Forest} that also names its edges by their index in the graph.
 *
 * @category Forests
 */
export interface GraphForest extends Forest {
  /** Index in the graph of each forest edge, heaviest first (parallel to `edges`). */
  readonly edgeIndex: Int32Array;
}

/**
 * Anything that maps a graph to one of its forests (unconstrained or constrained).
 *
 * @category Forests
 */
export type GraphSolver = (g: Graph) => GraphForest;

/**
 * The single-linkage hierarchy of a graph: its n − c merges (c = number of connected
 * components) in decreasing similarity. A {@link Hierarchy}, so `labelsAt` and `forestAt` of
 * `spanning_forest.ts` read its levels k ∈ [c, n] too.
 *
 * @category Forests
 */
export interface GraphHierarchy extends Hierarchy {
  /** Graph edge index of merge t. */
  readonly edgeIndex: Int32Array;
  /** Number of connected components c of the graph: the coarsest level. */
  readonly components: number;
}

/** A graph forest whose n × n matrices and pair list are built on first access. */
export class LazyGraphForest implements GraphForest {
  /** Number of points. */
  readonly n: number;
  /** Number of trees. */
  readonly k: number;
  /** Graph edge indices of the forest, in the solver's order (heaviest first). */
  readonly edgeIndex: Int32Array;
  /** Cluster id per point, numbered by first appearance. */
  readonly labels: Int32Array;
  /** ⟨A, Σ⟩ = 2 × the sum of the forest's edge weights (the dense solvers' convention). */
  readonly value: number;
  readonly #left: Int32Array;
  readonly #right: Int32Array;
  #edges: ReadonlyArray<readonly [number, number]> | undefined;
  #adjacency: Matrix | undefined;
  #connectivity: Matrix | undefined;
  /**
   * Wraps a forest given by edge indices and their endpoints.
   * @param n Number of points.
   * @param edgeIndex Graph edge indices of an acyclic edge set (not checked).
   * @param left Smaller endpoint of each forest edge (parallel to `edgeIndex`).
   * @param right Larger endpoint of each forest edge.
   * @param labels Cluster id per point.
   * @param value ⟨A, Σ⟩.
   */
  constructor(
    n: number,
    edgeIndex: Int32Array,
    left: Int32Array,
    right: Int32Array,
    labels: Int32Array,
    value: number,
  ) {
    this.n = n;
    this.k = n - edgeIndex.length;
    this.edgeIndex = edgeIndex;
    this.labels = labels;
    this.value = value;
    this.#left = left;
    this.#right = right;
  }
  /** The edges as pairs [i, j], i < j, heaviest first. */
  get edges(): ReadonlyArray<readonly [number, number]> {
    if (this.#edges === undefined) {
      const out = new Array<readonly [number, number]>(this.edgeIndex.length);
      for (let t = 0; t < out.length; t++) out[t] = [this.#left[t], this.#right[t]];
      this.#edges = out;
    }
    return this.#edges;
  }
  /** A*: n × n, built on first access. */
  get adjacency(): Matrix {
    if (this.#adjacency === undefined) {
      const n = this.n, a = new Float64Array(n * n);
      for (let t = 0; t < this.edgeIndex.length; t++) {
        const i = this.#left[t], j = this.#right[t];
        a[i * n + j] = a[j * n + i] = 1;
      }
      this.#adjacency = fromData(n, a);
    }
    return this.#adjacency;
  }
  /** M*: n × n, built on first access. */
  get connectivity(): Matrix {
    this.#connectivity ??= connectivityFromLabels(this.labels);
    return this.#connectivity;
  }
}

/**
 * Wraps edge indices of an acyclic edge set of `g` as a forest (labels, value, endpoints).
 *
 * @param g The graph.
 * @param edgeIndex Edge indices, in the order the forest lists them (not checked for cycles).
 * @param sets A union–find already holding exactly these edges, or undefined to build one.
 * @returns The forest.
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { graphForestOf } from "./spanning_forest_on_graph.ts";
 * const f = graphForestOf(graph(3, [[0, 1, 2], [1, 2, 5]]), new Int32Array([1]));
 * if (f.labels.join() !== "0,1,1" || f.value !== 10) throw new Error();
 * ```
 */
export function graphForestOf(
  g: Graph,
  edgeIndex: Int32Array,
  sets?: DisjointSets,
): GraphForest {
  const n = g.n, m = edgeIndex.length;
  const left = new Int32Array(m), right = new Int32Array(m);
  const build = sets === undefined;
  const union = sets ?? new DisjointSets(n);
  let value = 0;
  for (let t = 0; t < m; t++) {
    const e = edgeIndex[t];
    left[t] = g.from[e];
    right[t] = g.to[e];
    value += 2 * g.weight[e];
    if (build) union.union(left[t], right[t]);
  }
  return new LazyGraphForest(n, edgeIndex, left, right, labelsFromSets(union, n), value);
}

/** Kruskal over a precomputed order, stopping after `limit` merges; writes merged edge ids. */
function kruskal(
  g: Graph,
  order: Int32Array,
  limit: number,
  sets: DisjointSets,
  out: Int32Array,
): number {
  const { from, to } = g;
  let count = 0;
  for (let t = 0; t < order.length && count < limit; t++) {
    const e = order[t];
    if (sets.union(from[e], to[e]) !== -1) out[count++] = e;
  }
  return count;
}

/** Builds the hierarchy without validating `g`. */
function graphHierarchyOf(g: Graph): GraphHierarchy {
  const n = g.n, sets = new DisjointSets(n), merged = new Int32Array(n - 1);
  const count = kruskal(g, argsortDescending(g.weight), n - 1, sets, merged);
  const edgeIndex = merged.slice(0, count);
  const left = new Int32Array(count), right = new Int32Array(count);
  const weights = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    const e = edgeIndex[t];
    left[t] = g.from[e];
    right[t] = g.to[e];
    weights[t] = g.weight[e];
  }
  return { n, left, right, weights, edgeIndex, components: n - count };
}

/**
 * The whole single-linkage hierarchy of a graph in O(m log m) worst case (O(m) radix sort plus
 * union–find): its n − c merges in decreasing similarity. Read a level with
 * {@link forestAtOnGraph}, or `labelsAt` / `forestAt` from `spanning_forest.ts`.
 *
 * @param g A valid graph.
 * @returns The hierarchy, with the number of connected components.
 * @throws {TypeError | RangeError} If `g` is not a valid graph (the message names the edge).
 *
 * @example Two components: levels k = 2, 3 only
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { forestAtOnGraph, forestHierarchyOnGraph } from "./spanning_forest_on_graph.ts";
 * import assert from "node:assert/strict";
 * const h = forestHierarchyOnGraph(graph(4, [[0, 1, -1], [1, 2, -5], [0, 2, -3]]));
 * assert.equal(h.components, 2);
 * assert.deepEqual([...forestAtOnGraph(h, 2).labels], [0, 0, 0, 1]);
 * ```
 *
 * @category Forests
 */
export function forestHierarchyOnGraph(g: Graph): GraphHierarchy {
  assertGraph("graph", g);
  return graphHierarchyOf(g);
}

/**
 * {@link forestHierarchyOnGraph} without validating `g` (for inputs valid by construction).
 *
 * @param g A graph (not checked).
 * @returns The hierarchy.
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { unsafeForestHierarchyOnGraph } from "./spanning_forest_on_graph.ts";
 * if (unsafeForestHierarchyOnGraph(graph(2, [[0, 1, 1]])).components !== 1) throw new Error();
 * ```
 *
 * @category Forests
 */
export function unsafeForestHierarchyOnGraph(g: Graph): GraphHierarchy {
  return graphHierarchyOf(g);
}

/**
 * Checks that a k-forest exists on a graph with `components` connected components.
 *
 * @param k The requested number of trees.
 * @param n Number of points.
 * @param components Number of connected components of the graph.
 * @throws {TypeError | RangeError} Unless k is an integer in [components, n].
 *
 * @example
 * ```ts
 * import { assertGraphK } from "./spanning_forest_on_graph.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertGraphK(1, 5, 2), /Invalid k = 1: .* 2 connected components/);
 * ```
 */
export function assertGraphK(k: unknown, n: number, components: number): asserts k is number {
  assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
  if (k < components) {
    throw new RangeError(
      `Invalid k = ${k}: the graph has ${components} connected components, so every spanning forest has at least ${components} trees (add edges, e.g. joinComponents, or ask for k ≥ ${components})`,
    );
  }
}

/**
 * The maximum-weight k-forest of a graph read off its hierarchy (the first n − k merges).
 *
 * @param h A hierarchy from {@link forestHierarchyOnGraph}.
 * @param k Number of trees, an integer in [c, n] (c = `h.components`).
 * @returns The forest with edge indices, labels and value.
 * @throws {RangeError} If `k` is not an integer in [c, n].
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { forestAtOnGraph, forestHierarchyOnGraph } from "./spanning_forest_on_graph.ts";
 * const f = forestAtOnGraph(forestHierarchyOnGraph(graph(3, [[0, 1, 2], [1, 2, 1]])), 2);
 * if (f.value !== 4 || f.edgeIndex.join() !== "0") throw new Error();
 * ```
 *
 * @category Forests
 */
export function forestAtOnGraph(h: GraphHierarchy, k: number): GraphForest {
  assertGraphK(k, h.n, h.components);
  const n = h.n, m = n - k, sets = new DisjointSets(n);
  let value = 0;
  for (let t = 0; t < m; t++) {
    sets.union(h.left[t], h.right[t]);
    value += 2 * h.weights[t];
  }
  return new LazyGraphForest(
    n,
    h.edgeIndex.slice(0, m),
    h.left.slice(0, m),
    h.right.slice(0, m),
    labelsFromSets(sets, n),
    value,
  );
}

/**
 * A*_k of a graph: the maximum-weight spanning forest with exactly k trees (Definition 2 on the
 * graph's edges), i.e. single linkage into k clusters. O(m log m) time, O(n + m) memory.
 *
 * @param g A valid graph.
 * @param k Number of trees, an integer in [c, n], c = number of connected components.
 * @returns The forest: edge indices, edges, labels, value = 2 Σ_edges weight.
 * @throws {TypeError | RangeError} If `g` is invalid (naming the edge) or `k` is out of range
 * (naming the number of components).
 *
 * @example Two clusters on a path
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { maxSpanningForestOnGraph } from "./spanning_forest_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -81], [2, 3, -1]]);
 * const f = maxSpanningForestOnGraph(g, 2);
 * assert.deepEqual([...f.labels], [0, 0, 1, 1]);
 * assert.equal(f.value, -4);
 * ```
 *
 * @category Forests
 */
export function maxSpanningForestOnGraph(g: Graph, k: number): GraphForest {
  assertGraph("graph", g);
  assertIntegerInRange("k", k, 1, g.n, `for n = ${g.n}`);
  return unsafeMaxSpanningForestOnGraph(g, k);
}

/**
 * {@link maxSpanningForestOnGraph} without validating `g` (k is still checked against the
 * components): the solver of the Monte-Carlo loops, whose perturbed graphs are valid by
 * construction.
 *
 * @param g A graph (not checked).
 * @param k Number of trees.
 * @param order The edges by decreasing weight, ties by index, when already computed (the loss
 * shares one sort between its two solves); computed when omitted.
 * @returns The forest.
 * @throws {RangeError} If `k` is not an integer in [c, n].
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { unsafeMaxSpanningForestOnGraph } from "./spanning_forest_on_graph.ts";
 * if (unsafeMaxSpanningForestOnGraph(graph(2, [[0, 1, 3]]), 1).value !== 6) throw new Error();
 * ```
 *
 * @category Forests
 */
export function unsafeMaxSpanningForestOnGraph(
  g: Graph,
  k: number,
  order?: Int32Array,
): GraphForest {
  const n = g.n;
  assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
  const sets = new DisjointSets(n), out = new Int32Array(n - k);
  const count = kruskal(g, order ?? argsortDescending(g.weight), n - k, sets, out);
  if (count < n - k) assertGraphK(k, n, sets.count); // ran out of edges: c = sets.count > k
  return graphForestOf(g, out, sets);
}

// Former names, kept for one version (CHANGELOG.md): graph variants are named `xOnGraph`.

/**
 * @deprecated Renamed {@link maxSpanningForestOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const graphMaxSpanningForest: typeof maxSpanningForestOnGraph = maxSpanningForestOnGraph;

/**
 * @deprecated Renamed {@link unsafeMaxSpanningForestOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const unsafeGraphMaxSpanningForest: typeof unsafeMaxSpanningForestOnGraph =
  unsafeMaxSpanningForestOnGraph;

/**
 * @deprecated Renamed {@link forestHierarchyOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const graphHierarchy: typeof forestHierarchyOnGraph = forestHierarchyOnGraph;

/** @deprecated Renamed {@link unsafeForestHierarchyOnGraph}; this alias goes in the next version. */
export const unsafeGraphHierarchy: typeof unsafeForestHierarchyOnGraph =
  unsafeForestHierarchyOnGraph;

/**
 * @deprecated Renamed {@link forestAtOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const graphForestAt: typeof forestAtOnGraph = forestAtOnGraph;
