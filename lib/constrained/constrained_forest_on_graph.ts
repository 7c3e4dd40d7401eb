/**
 * The constrained maximum k-spanning forest on a sparse graph (Definition 5 of Stewart et al.,
 * 2023, with M_Ω derived from partial labels): the best k-forest of the graph in which every
 * class's labelled points share one tree and no tree holds two classes.
 *
 * Partial labels are the graph form of Definition 4: they stand for the M_Ω of
 * `constraintsFromLabels` (`constraint_types.ts`) without its n × n matrix. The dense solvers of
 * Definition 5 are in `constrained_forest.ts` (with `_constraint_groups.ts` and the label-derived
 * solver of `_label_forest.ts`); this one follows the dense greedy's candidate (b).
 *
 * A dense M_Ω is n × n; at data-set scale the supervision is a label per point (or null), which
 * is what this solver takes. Algorithm (the graph form of the dense greedy's candidate (b)):
 *
 * 1. Kruskal over the edges by decreasing weight, rejecting a merge of two trees that carry
 *    different classes: a forest with at most one class per tree (greedy — the best such forest
 *    is a multiway-cut problem, NP-hard for three classes or more).
 * 2. If a class is split over several trees, no edge can join them without crossing another
 *    class's tree: the greedy stops with {@link InfeasibleConstraintsError}.
 * 3. With c trees left: c > k is infeasible (the graph and the labels force c trees); c < k
 *    removes the k − c lightest removable edges — those with no labelled point on one side.
 *    Removing one does not change which others are removable, so these are the best to drop
 *    from this forest.
 *
 * Guarantees: exact when no point is labelled (it is then the unconstrained forest) and when
 * every point is labelled (each tree is then the maximum spanning tree of one class's induced
 * subgraph); a feasible forest otherwise, whose value is ≤ the optimum. Checked against
 * brute-force enumeration in props/. O(m log m + n) time, O(n + m) memory.
 *
 * @module
 */
import { argsortDescending } from "../core/_argsort.ts";
import { InfeasibleConstraintsError, show } from "../core/errors.ts";
import { assertGraph, type Graph } from "../graph/graph.ts";
import {
  assertGraphK,
  type GraphForest,
  graphForestOf,
} from "../forest/spanning_forest_on_graph.ts";
import { assertIntegerInRange } from "../core/errors.ts";
import { DisjointSets } from "../forest/spanning_forest.ts";

/**
 * Partial labels of n points: an integer class, or null (or −1 in an Int32Array) if unknown.
 *
 * @category Constrained forests
 */
export type PartialLabels = readonly (number | null)[] | Int32Array;

/**
 * Checks partial labels and numbers their classes 0..c−1 (−1 = unlabelled).
 *
 * @param name Argument name used in messages.
 * @param labels One entry per point: a safe integer class, or null; in an Int32Array, −1 is
 * unlabelled and other negative values are rejected.
 * @param n Expected number of points.
 * @returns Class ids and the number of classes.
 * @throws {TypeError} If `labels` is not an array or Int32Array, or holds a non-integer.
 * @throws {RangeError} If its length is not n, or an Int32Array holds a value below −1.
 *
 * @example
 * ```ts
 * import { classIds } from "./constrained_forest_on_graph.ts";
 * const { ids, classes } = classIds("labels", [7, null, 3, 7], 4);
 * if (ids.join() !== "0,-1,1,0" || classes !== 2) throw new Error();
 * ```
 */
export function classIds(
  name: string,
  labels: unknown,
  n: number,
): { ids: Int32Array; classes: number } {
  if (!Array.isArray(labels) && !(labels instanceof Int32Array)) {
    throw new TypeError(
      `Expected ${name} to be an array of integers or null (or an Int32Array with -1 for unlabelled), got ${
        show(labels)
      }`,
    );
  }
  if (labels.length !== n) {
    throw new RangeError(`Invalid ${name}: length ${labels.length}, expected n = ${n}`);
  }
  const ids = new Int32Array(n), of = new Map<number, number>();
  const typed = labels instanceof Int32Array;
  for (let i = 0; i < n; i++) {
    const v = labels[i] as unknown;
    if (v === null || (typed && v === -1)) {
      ids[i] = -1;
      continue;
    }
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new TypeError(
        `Invalid ${name}[${i}] = ${show(v)}: a label must be an integer, or null if unknown`,
      );
    }
    if (typed && v < -1) {
      throw new RangeError(
        `Invalid ${name}[${i}] = ${v}: in an Int32Array a label is ≥ 0, or -1 if unknown`,
      );
    }
    let id = of.get(v);
    if (id === undefined) of.set(v, id = of.size);
    ids[i] = id;
  }
  return { ids, classes: of.size };
}

/**
 * A*_k(Σ; M_Ω) on a graph for label-derived M_Ω (see the module doc for the algorithm and its
 * guarantees).
 *
 * @param g A valid graph.
 * @param k Number of trees, an integer in [1, n].
 * @param labels Partial labels (see {@link PartialLabels}).
 * @returns A k-forest of `g` whose trees respect the labels.
 * @throws {TypeError | RangeError} On an invalid `g`, `k` or `labels`.
 * @throws {InfeasibleConstraintsError} If a class cannot be joined in one tree without crossing
 * another class, or the graph and labels force more than k trees, or fewer than k trees are
 * possible without splitting a class.
 *
 * @example The label pulls point 3 to point 0's tree
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { constrainedSpanningForestOnGraph } from "./constrained_forest_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -1], [2, 3, -9], [0, 3, -50]]);
 * const f = constrainedSpanningForestOnGraph(g, 2, [5, null, 6, 5]);
 * assert.deepEqual([...f.labels], [0, 0, 1, 0]);
 * ```
 *
 * @category Constrained forests
 */
export function constrainedSpanningForestOnGraph(
  g: Graph,
  k: number,
  labels: PartialLabels,
): GraphForest {
  assertGraph("graph", g);
  assertIntegerInRange("k", k, 1, g.n, `for n = ${g.n}`);
  const { ids } = classIds("labels", labels, g.n);
  return unsafeConstrainedSpanningForestOnGraph(g, k, ids);
}

/**
 * {@link constrainedSpanningForestOnGraph} on trusted inputs: `g` is not checked and `ids` are class ids
 * 0..c−1 with −1 for unlabelled (from {@link classIds}). `k` and feasibility are checked.
 *
 * @param g A graph (not checked).
 * @param k Number of trees.
 * @param ids Class id per point, −1 if unlabelled (not checked).
 * @param order The edges by decreasing weight, ties by index, when already computed.
 * @returns The forest.
 * @throws {RangeError | InfeasibleConstraintsError} As {@link constrainedSpanningForestOnGraph}.
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { unsafeConstrainedSpanningForestOnGraph } from "./constrained_forest_on_graph.ts";
 * const f = unsafeConstrainedSpanningForestOnGraph(graph(2, [[0, 1, 1]]), 2, new Int32Array([0, 1]));
 * if (f.edgeIndex.length !== 0) throw new Error();
 * ```
 *
 * @category Constrained forests
 */
export function unsafeConstrainedSpanningForestOnGraph(
  g: Graph,
  k: number,
  ids: Int32Array,
  order: Int32Array = argsortDescending(g.weight),
): GraphForest {
  const n = g.n;
  assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
  const { sets, kept, count } = rejectionKruskal(g, ids, order);
  // Every class in one tree?
  const classRoot = new Map<number, number>(), classPoint = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    if (ids[i] === -1) continue;
    const r = sets.find(i), seen = classRoot.get(ids[i]);
    if (seen === undefined) {
      classRoot.set(ids[i], r);
      classPoint.set(ids[i], i);
    } else if (seen !== r) {
      throw new InfeasibleConstraintsError(
        `Cannot keep the labelled points ${
          classPoint.get(ids[i])
        } and ${i} (same class) in one tree: every path between them in the graph crosses another class's points (the greedy found no way; add edges, e.g. a denser kNN graph)`,
      );
    }
  }
  const c = sets.count;
  if (c > k) {
    assertGraphK(k, n, graphComponentCount(g));
    throw new InfeasibleConstraintsError(
      `No k = ${k} forest respects the labels: the graph and the labels force at least ${c} trees (${classRoot.size} classes, each tree at most one)`,
    );
  }
  let edges: Int32Array = kept.subarray(0, count);
  if (c < k) edges = pruneLightest(g, edges, ids, k - c);
  return graphForestOf(g, edges.slice());
}

/**
 * Kruskal over `order`, rejecting every merge of two trees that carry different classes; runs
 * until one tree is left or the edges are exhausted.
 */
function rejectionKruskal(
  g: Graph,
  ids: Int32Array,
  order: Int32Array,
): { sets: DisjointSets; rootClass: Int32Array; kept: Int32Array; count: number } {
  const n = g.n, { from, to } = g;
  const sets = new DisjointSets(n), rootClass = Int32Array.from(ids);
  const kept = new Int32Array(Math.max(0, n - 1));
  let count = 0;
  for (let t = 0; t < order.length && sets.count > 1; t++) {
    const e = order[t], ra = sets.find(from[e]), rb = sets.find(to[e]);
    if (ra === rb) continue;
    const ca = rootClass[ra], cb = rootClass[rb];
    if (ca !== -1 && cb !== -1 && ca !== cb) continue;
    const r = sets.union(ra, rb);
    rootClass[r] = ca !== -1 ? ca : cb;
    kept[count++] = e;
  }
  return { sets, rootClass, kept, count };
}

/**
 * Transductive labelling on a graph: the forest Kruskal builds when it rejects every merge of
 * two classes (run to the end; a greedy, see the module doc), and each point labelled with the
 * class of its tree. Unlike {@link constrainedSpanningForestOnGraph} a class
 * may occupy several trees (must-link is relaxed), so it never fails: every point of a
 * connected component that holds a label gets one; points of unlabelled components get null.
 * Each labelled point keeps its own label. O(m log m + n).
 *
 * @param g A valid graph.
 * @param labels Partial labels (see {@link PartialLabels}).
 * @returns The label of every point (null where no label reaches) and the forest.
 * @throws {TypeError | RangeError} On an invalid graph or labels.
 *
 * @example The unlabelled middle point joins its closer labelled neighbour
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { propagateLabels } from "./constrained_forest_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -4], [2, 3, -1]]);
 * assert.deepEqual(propagateLabels(g, [7, null, null, 9]).labels, [7, 7, 9, 9]);
 * ```
 *
 * @category Constrained forests
 */
export function propagateLabels(
  g: Graph,
  labels: PartialLabels,
): { labels: (number | null)[]; forest: GraphForest } {
  assertGraph("graph", g);
  const { ids } = classIds("labels", labels, g.n);
  const valueOf = new Map<number, number>();
  for (let i = 0; i < g.n; i++) {
    if (ids[i] !== -1) valueOf.set(ids[i], labels[i] as number);
  }
  const { sets, rootClass, kept, count } = rejectionKruskal(g, ids, argsortDescending(g.weight));
  const out = new Array<number | null>(g.n);
  for (let i = 0; i < g.n; i++) {
    const c = rootClass[sets.find(i)];
    out[i] = c === -1 ? null : valueOf.get(c)!;
  }
  return { labels: out, forest: graphForestOf(g, kept.slice(0, count), sets) };
}

function graphComponentCount(g: Graph): number {
  const sets = new DisjointSets(g.n);
  for (let e = 0; e < g.from.length; e++) sets.union(g.from[e], g.to[e]);
  return sets.count;
}

/**
 * Removes the `drop` lightest edges of a forest that have no labelled point on one side, keeping
 * the order of the rest. Roots each tree at a labelled point when it has one, so an edge is
 * removable iff the subtree below it holds no labelled point.
 */
function pruneLightest(g: Graph, edges: Int32Array, ids: Int32Array, drop: number): Int32Array {
  const n = g.n, m = edges.length;
  // CSR adjacency of the forest.
  const start = new Int32Array(n + 1), nbr = new Int32Array(2 * m), via = new Int32Array(2 * m);
  for (let t = 0; t < m; t++) {
    start[g.from[edges[t]] + 1]++;
    start[g.to[edges[t]] + 1]++;
  }
  for (let v = 0; v < n; v++) start[v + 1] += start[v];
  const fill = start.slice(0, n);
  for (let t = 0; t < m; t++) {
    const a = g.from[edges[t]], b = g.to[edges[t]];
    nbr[fill[a]] = b;
    via[fill[a]++] = t;
    nbr[fill[b]] = a;
    via[fill[b]++] = t;
  }
  // BFS from labelled points first, so each labelled tree is rooted at a labelled point.
  const parentEdge = new Int32Array(n).fill(-1), visited = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0, tail = 0;
  const visit = (root: number) => {
    if (visited[root]) return;
    visited[root] = 1;
    queue[tail++] = root;
    while (head < tail) {
      const v = queue[head++];
      for (let s = start[v]; s < start[v + 1]; s++) {
        const u = nbr[s];
        if (!visited[u]) {
          visited[u] = 1;
          parentEdge[u] = via[s];
          queue[tail++] = u;
        }
      }
    }
  };
  for (let i = 0; i < n; i++) if (ids[i] !== -1) visit(i);
  for (let i = 0; i < n; i++) visit(i);
  // Labelled points below each vertex, children before parents (reverse BFS order).
  const below = new Int32Array(n);
  for (let i = 0; i < n; i++) below[i] = ids[i] === -1 ? 0 : 1;
  const removable: number[] = [];
  for (let q = n - 1; q >= 0; q--) {
    const v = queue[q], t = parentEdge[v];
    if (t === -1) continue;
    const p = g.from[edges[t]] === v ? g.to[edges[t]] : g.from[edges[t]];
    below[p] += below[v];
    if (below[v] === 0) removable.push(t);
  }
  if (removable.length < drop) {
    throw new InfeasibleConstraintsError(
      `No k forest respects the labels: only ${removable.length} edges can be removed without splitting a class, ${drop} more trees are needed (every point labelled leaves one tree per class)`,
    );
  }
  const w = g.weight;
  removable.sort((a, b) => w[edges[a]] - w[edges[b]] || b - a); // lightest first; later edges first on ties
  const gone = new Uint8Array(m);
  for (let r = 0; r < drop; r++) gone[removable[r]] = 1;
  const out = new Int32Array(m - drop);
  for (let t = 0, o = 0; t < m; t++) if (!gone[t]) out[o++] = edges[t];
  return out;
}

// Former names, kept for one version (CHANGELOG.md): graph variants are named `xOnGraph`.

/**
 * @deprecated Renamed {@link constrainedSpanningForestOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const constrainedForestOnGraph: typeof constrainedSpanningForestOnGraph =
  constrainedSpanningForestOnGraph;

/**
 * @deprecated Renamed {@link unsafeConstrainedSpanningForestOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const unsafeConstrainedForestOnGraph: typeof unsafeConstrainedSpanningForestOnGraph =
  unsafeConstrainedSpanningForestOnGraph;
