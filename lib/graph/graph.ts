/**
 * Sparse similarity graphs: the input of the spanning-forest solvers when a dense n × n Σ does
 * not fit (10⁵–10⁶ points). A {@link Graph} is an undirected weighted edge list — edge e joins
 * `from[e] < to[e]` with similarity `weight[e]` — so it is symmetric by construction: Σ_ij =
 * Σ_ji = weight[e], and a pair that is not an edge is absent (Σ_ij = −∞ for the forests).
 *
 * Validated like Σ, once, at the boundary: every endpoint an integer in [0, n), no self-loop,
 * no pair listed twice, every weight finite. Errors name the offending edge. Checking costs
 * O(n + m) (duplicates are found per vertex with one marker array, not by sorting).
 *
 * On a complete graph whose edges are listed in row-major upper-triangle order
 * ({@link completeGraph}), edge e is Σ's upper-triangle coordinate e, the coordinate order of
 * the noise in `noise.ts`: the graph solvers then see the same numbers as the dense ones.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { assertSimilarity, type Matrix } from "../core/matrix.ts";
import { DisjointSets, labelsFromSets } from "../forest/spanning_forest.ts";

/**
 * An undirected weighted graph on n points as an edge list, each pair once, `from < to`.
 *
 * @category Graphs of points
 */
export interface Graph {
  /** Number of points (vertices 0..n−1). */
  readonly n: number;
  /** Smaller endpoint of each edge. */
  readonly from: Int32Array;
  /** Larger endpoint of each edge. */
  readonly to: Int32Array;
  /** Similarity of each edge (larger = more similar), finite. */
  readonly weight: Float64Array;
}

/** Largest number of points a graph may have (indices are stored as Int32). */
export const MAX_GRAPH_POINTS = 0x7fffffff;

/**
 * Checks that `g` is a valid {@link Graph}: a positive integer n, three typed arrays of one
 * length, endpoints integers with 0 ≤ from < to < n, finite weights, no pair listed twice.
 *
 * @param name Argument name used in messages (e.g. "graph").
 * @param g The value to check.
 * @throws {TypeError} If `g` is not an object with `n`, `from`, `to` (Int32Array) and `weight`
 * (Float64Array).
 * @throws {RangeError} Naming the first offending edge: an endpoint out of range, a self-loop,
 * `from > to`, a non-finite weight, or a duplicate pair.
 *
 * @example A duplicate pair is named
 * ```ts
 * import { assertGraph } from "./graph.ts";
 * import assert from "node:assert/strict";
 * const g = { n: 3, from: new Int32Array([0, 0]), to: new Int32Array([1, 1]),
 *   weight: new Float64Array([1, 2]) };
 * assert.throws(() => assertGraph("graph", g), /graph edge 1 = \(0, 1\): it duplicates edge 0/);
 * ```
 *
 * @category Graphs of points
 */
export function assertGraph(name: string, g: unknown): asserts g is Graph {
  if (typeof g !== "object" || g === null) {
    throw new TypeError(`Expected ${name} to be a Graph {n, from, to, weight}, got ${show(g)}`);
  }
  const { n, from, to, weight } = g as Partial<Graph>;
  assertIntegerInRange(`${name}.n`, n, 1, MAX_GRAPH_POINTS);
  if (!(from instanceof Int32Array)) {
    throw new TypeError(`Expected ${name}.from to be an Int32Array, got ${show(from)}`);
  }
  if (!(to instanceof Int32Array)) {
    throw new TypeError(`Expected ${name}.to to be an Int32Array, got ${show(to)}`);
  }
  if (!(weight instanceof Float64Array)) {
    throw new TypeError(`Expected ${name}.weight to be a Float64Array, got ${show(weight)}`);
  }
  const m = from.length;
  if (to.length !== m || weight.length !== m) {
    throw new RangeError(
      `Invalid ${name}: from, to and weight have lengths ${m}, ${to.length}, ${weight.length} (one entry per edge)`,
    );
  }
  const degree = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    const a = from[e], b = to[e], w = weight[e];
    if (a < 0 || b < 0 || a >= n || b >= n) {
      throw new RangeError(
        `Invalid ${name} edge ${e} = (${a}, ${b}): endpoints must be in [0, ${n - 1}]`,
      );
    }
    if (a === b) throw new RangeError(`Invalid ${name} edge ${e} = (${a}, ${b}): a self-loop`);
    if (a > b) {
      throw new RangeError(
        `Invalid ${name} edge ${e} = (${a}, ${b}): from must be < to (each pair listed once; use graph() to build from pairs in any order)`,
      );
    }
    if (!Number.isFinite(w)) {
      throw new RangeError(
        `Invalid ${name} edge ${e} = (${a}, ${b}) weight ${show(w)}: weights must be finite`,
      );
    }
    degree[a + 1]++;
  }
  // Duplicates: bucket the edges by their smaller endpoint, then mark the larger ones.
  for (let v = 0; v < n; v++) degree[v + 1] += degree[v];
  const slot = degree.slice(0, n), byFrom = new Int32Array(m);
  for (let e = 0; e < m; e++) byFrom[slot[from[e]]++] = e;
  const seen = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) {
    for (let s = degree[v]; s < degree[v + 1]; s++) {
      const e = byFrom[s], b = to[e];
      if (seen[b] !== -1) {
        const first = Math.min(seen[b], e), second = Math.max(seen[b], e);
        throw new RangeError(
          `Invalid ${name} edge ${second} = (${v}, ${b}): it duplicates edge ${first} (each pair once)`,
        );
      }
      seen[b] = e;
    }
    for (let s = degree[v]; s < degree[v + 1]; s++) seen[to[byFrom[s]]] = -1;
  }
}

/**
 * Builds a validated {@link Graph} from `[i, j, weight]` triples, in any orientation (each
 * stored with the smaller endpoint first, in the given order).
 *
 * @param n Number of points, a positive integer.
 * @param edges The edges as `[i, j, weight]`.
 * @returns The graph.
 * @throws {TypeError} If `edges` is not an array of triples of numbers.
 * @throws {RangeError} Naming the offending edge (see {@link assertGraph}), or if `n` is invalid.
 *
 * @example A path 0 – 1 – 2
 * ```ts
 * import { graph } from "./graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(3, [[1, 0, -1], [1, 2, -4]]);
 * assert.deepEqual([...g.from], [0, 1]);
 * assert.throws(() => graph(3, [[0, 3, 1]]), /edge 0 = \(0, 3\): endpoints must be integers in \[0, 2\]/);
 * ```
 *
 * @category Graphs of points
 */
export function graph(
  n: number,
  edges: ReadonlyArray<readonly [number, number, number]>,
): Graph {
  assertIntegerInRange("n", n, 1, MAX_GRAPH_POINTS);
  if (!Array.isArray(edges)) {
    throw new TypeError(`Expected edges to be an array of [i, j, weight], got ${show(edges)}`);
  }
  const m = edges.length;
  const from = new Int32Array(m), to = new Int32Array(m), weight = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const edge = edges[e];
    if (!Array.isArray(edge) || edge.length !== 3) {
      throw new TypeError(`Expected edges[${e}] to be [i, j, weight], got ${show(edge)}`);
    }
    const [a, b, w] = edge;
    if (typeof w !== "number") {
      throw new TypeError(`Expected edges[${e}] weight to be a number, got ${show(w)}`);
    }
    for (const v of [a, b]) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= n) {
        throw new RangeError(
          `Invalid graph edge ${e} = (${show(a)}, ${show(b)}): endpoints must be integers in [0, ${
            n - 1
          }]`,
        );
      }
    }
    from[e] = Math.min(a, b);
    to[e] = Math.max(a, b);
    weight[e] = w;
    if (a === b) throw new RangeError(`Invalid graph edge ${e} = (${a}, ${b}): a self-loop`);
  }
  const g = { n, from, to, weight };
  assertGraph("graph", g);
  return g;
}

/**
 * The complete graph of a dense similarity matrix: its n(n − 1)/2 pairs in row-major
 * upper-triangle order (edge e is the noise coordinate e of `noise.ts`), weights Σ_ij.
 *
 * @param sigma Symmetric, finite similarity matrix.
 * @returns The graph (O(n²) edges: meant for tests and small n).
 * @throws {TypeError | RangeError} If `sigma` is not a valid similarity matrix.
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { completeGraph } from "./graph.ts";
 * const g = completeGraph(matrix([[0, 1, 2], [1, 0, 3], [2, 3, 0]]));
 * if (g.weight.join() !== "1,2,3" || g.to.join() !== "1,2,2") throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function completeGraph(sigma: Matrix): Graph {
  assertSimilarity("sigma", sigma);
  const n = sigma.n, m = (n * (n - 1)) / 2;
  const from = new Int32Array(m), to = new Int32Array(m), weight = new Float64Array(m);
  for (let i = 0, e = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, e++) {
      from[e] = i;
      to[e] = j;
      weight[e] = sigma.data[i * n + j];
    }
  }
  return { n, from, to, weight };
}

/**
 * The connected components of a graph.
 *
 * @param g A graph (not checked: validate with {@link assertGraph} first).
 * @returns The number of components and a component id per point (numbered by first appearance).
 *
 * @example Two components
 * ```ts
 * import { graph, graphComponents } from "./graph.ts";
 * const c = graphComponents(graph(3, [[0, 2, 1]]));
 * if (c.count !== 2 || c.labels.join() !== "0,1,0") throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function graphComponents(g: Graph): { count: number; labels: Int32Array } {
  const sets = new DisjointSets(g.n);
  for (let e = 0; e < g.from.length; e++) sets.union(g.from[e], g.to[e]);
  return { count: sets.count, labels: labelsFromSets(sets, g.n) };
}

/**
 * The same edges with other weights (shares `from` and `to`; no copy, no check).
 *
 * @param g A graph.
 * @param weight One finite weight per edge.
 * @returns The reweighted graph.
 *
 * @example
 * ```ts
 * import { graph, withWeights } from "./graph.ts";
 * const g = withWeights(graph(2, [[0, 1, 1]]), new Float64Array([5]));
 * if (g.weight[0] !== 5) throw new Error();
 * ```
 */
export function withWeights(g: Graph, weight: Float64Array): Graph {
  return { n: g.n, from: g.from, to: g.to, weight };
}

/**
 * A lookup from a pair (i, j), in either order, to its edge index.
 *
 * @param g A graph.
 * @returns `(i, j) => e`, or −1 when the pair is not an edge.
 *
 * @example
 * ```ts
 * import { edgeLookup, graph } from "./graph.ts";
 * const find = edgeLookup(graph(3, [[0, 1, 1], [2, 1, 1]]));
 * if (find(2, 1) !== 1 || find(0, 2) !== -1) throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function edgeLookup(g: Graph): (i: number, j: number) => number {
  const n = g.n;
  // a·n + b is an exact key while n² < 2⁵³ (n < 9.4·10⁷); beyond, string keys.
  const key: (a: number, b: number) => number | string = n * n < Number.MAX_SAFE_INTEGER
    ? (a, b) => a * n + b
    : (a, b) => `${a},${b}`;
  const index = new Map<number | string, number>();
  for (let e = 0; e < g.from.length; e++) index.set(key(g.from[e], g.to[e]), e);
  return (i, j) => {
    if (!Number.isInteger(i) || !Number.isInteger(j) || i === j) return -1;
    const a = Math.min(i, j), b = Math.max(i, j);
    if (a < 0 || b >= n) return -1;
    return index.get(key(a, b)) ?? -1;
  };
}
