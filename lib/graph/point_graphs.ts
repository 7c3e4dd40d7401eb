/**
 * Similarity graphs from points, for the sparse solvers of `../forest/spanning_forest_on_graph.ts`. Edge weights are
 * Σ_ij = −‖x_i − x_j‖², the dense convention of `negSquaredDistances`.
 *
 * - {@link delaunayGraph} (2-d): the Delaunay triangulation contains a Euclidean minimum spanning
 *   tree, so the maximum spanning forest of this graph IS single linkage of the points, exactly,
 *   at every k, from ≈ 3n edges instead of n²/2.
 * - {@link knnGraph} (any d): the symmetrised k-nearest-neighbour graph, exact by blocked matrix
 *   products (`exact_neighbours.ts`: O(n² d) time, O(n d + n k) memory, a native BLAS
 *   injectable), or approximate by NN-descent (`nn_descent.ts`).
 * - {@link joinComponents}: a kNN graph may be disconnected; this adds c − 1 edges so that
 *   it spans (and so every k ≥ 1 has a forest).
 * - {@link mutualReachability}: HDBSCAN's similarities −max(core_i, core_j, d_ij)², which keep a
 *   lone bridge point from chaining two dense clusters together.
 *
 * @module
 */
import { Delaunator } from "../deps/delaunator.ts";
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type Graph, graphComponents } from "./graph.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import {
  exactNeighbours,
  type ExactNeighboursOptions,
  type Neighbours,
  type ProgressCallback,
  squaredDistance,
} from "./exact_neighbours.ts";

export {
  exactNeighbours,
  type ExactNeighboursOptions,
  type GemmAbT,
  type NeighbourGemm,
  type Neighbours,
  type Progress,
  type ProgressCallback,
  squaredDistance,
} from "./exact_neighbours.ts";

/**
 * Builds an undirected graph from pairs (i, j) in any orientation, keeping each unordered pair
 * once (the first weight seen) and dropping self-pairs. O(n + pairs), per-vertex buckets. The
 * result is valid when the endpoints are in [0, n) and the weights finite (not checked).
 *
 * @param n Number of points.
 * @param a First endpoint of each pair.
 * @param b Second endpoint of each pair.
 * @param w Weight of each pair.
 * @param count Number of pairs to read (default all).
 * @returns The graph, edges grouped by smaller endpoint.
 *
 * @example (0, 1) listed twice
 * ```ts
 * import { graphFromPairs } from "./point_graphs.ts";
 * const g = graphFromPairs(3, new Int32Array([1, 0, 2]), new Int32Array([0, 1, 1]),
 *   new Float64Array([-1, -1, -4]));
 * if (g.from.length !== 2 || g.to.join() !== "1,2") throw new Error();
 * ```
 */
export function graphFromPairs(
  n: number,
  a: Int32Array,
  b: Int32Array,
  w: Float64Array,
  count: number = a.length,
): Graph {
  const start = new Int32Array(n + 1);
  for (let t = 0; t < count; t++) if (a[t] !== b[t]) start[Math.min(a[t], b[t]) + 1]++;
  for (let v = 0; v < n; v++) start[v + 1] += start[v];
  const fill = start.slice(0, n), slot = new Int32Array(start[n]);
  for (let t = 0; t < count; t++) if (a[t] !== b[t]) slot[fill[Math.min(a[t], b[t])]++] = t;
  const seen = new Int32Array(n).fill(-1);
  const from = new Int32Array(start[n]), to = new Int32Array(start[n]);
  const weight = new Float64Array(start[n]);
  let m = 0;
  for (let v = 0; v < n; v++) {
    for (let s = start[v]; s < start[v + 1]; s++) {
      const t = slot[s], u = Math.max(a[t], b[t]);
      if (seen[u] === v) continue;
      seen[u] = v;
      from[m] = v;
      to[m] = u;
      weight[m++] = w[t];
    }
  }
  return { n, from: from.slice(0, m), to: to.slice(0, m), weight: weight.slice(0, m) };
}

function assert2d(p: RectMatrix): void {
  if (p.cols !== 2) {
    throw new RangeError(
      `Invalid points: they have ${p.cols} coordinates but the Delaunay graph needs 2-d points (use knnGraph)`,
    );
  }
}

/**
 * The Delaunay graph of 2-d points, weights −‖x_i − x_j‖². Its maximum spanning forest is the
 * exact single linkage of the points (the Euclidean MST is a Delaunay subgraph). Collinear
 * inputs give the path along the line; a duplicated point is joined to its twin by a
 * zero-distance edge. O(n log n) time, ≈ 3n edges.
 *
 * @param points n × 2 coordinates (rows or a RectMatrix; not copied when a RectMatrix).
 * @returns The graph (connected).
 * @throws {TypeError | RangeError} If `points` is not a finite n × 2 point set.
 *
 * @example Four corners of a unit square and a far point
 * ```ts
 * import { delaunayGraph } from "./point_graphs.ts";
 * import { maxSpanningForestOnGraph } from "../forest/spanning_forest_on_graph.ts";
 * const g = delaunayGraph([[0, 0], [1, 0], [0, 1], [1, 1], [9, 9]]);
 * const f = maxSpanningForestOnGraph(g, 2);
 * if (f.labels.join() !== "0,0,0,0,1") throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function delaunayGraph(points: PointsLike): Graph {
  const p = toRectMatrix(points, "points");
  assert2d(p);
  const n = p.rows, x = p.data;
  if (n === 1) {
    return { n, from: new Int32Array(0), to: new Int32Array(0), weight: new Float64Array(0) };
  }
  const d = new Delaunator(x);
  const tri = d.triangles, half = d.halfedges;
  let pairs = 0;
  for (let e = 0; e < tri.length; e++) if (half[e] < e) pairs++;
  const hull = d.hull;
  const extra = tri.length === 0 ? hull.length : 0; // collinear: the hull lists the line in order
  const a = new Int32Array(pairs + extra + n), b = new Int32Array(pairs + extra + n);
  const w = new Float64Array(pairs + extra + n);
  let c = 0;
  for (let e = 0; e < tri.length; e++) {
    if (half[e] >= e) continue;
    const i = tri[e], j = tri[e % 3 === 2 ? e - 2 : e + 1];
    a[c] = i;
    b[c] = j;
    w[c++] = -squaredDistance(x, 2, i, j);
  }
  for (let t = 0; t + 1 < extra; t++) {
    a[c] = hull[t];
    b[c] = hull[t + 1];
    w[c++] = -squaredDistance(x, 2, hull[t], hull[t + 1]);
  }
  // Points the triangulation skipped are exact duplicates of a triangulated point.
  const touched = new Uint8Array(n);
  for (let t = 0; t < c; t++) touched[a[t]] = touched[b[t]] = 1;
  let missing = false;
  for (let i = 0; i < n && !missing; i++) if (!touched[i]) missing = true;
  if (missing) {
    const twin = new Map<string, number>();
    for (let i = 0; i < n; i++) if (touched[i]) twin.set(`${x[2 * i]},${x[2 * i + 1]}`, i);
    for (let i = 0; i < n; i++) {
      if (touched[i]) continue;
      const key = `${x[2 * i]},${x[2 * i + 1]}`, j = twin.get(key);
      if (j === undefined) {
        twin.set(key, i); // all copies of this point were skipped: the first one stands for them
        continue;
      }
      a[c] = i;
      b[c] = j;
      w[c++] = 0;
    }
  }
  return graphFromPairs(n, a, b, w, c);
}

/**
 * The symmetrised kNN graph of neighbour lists: an edge {i, j} when j is among i's neighbours
 * or i among j's, weight −‖x_i − x_j‖².
 *
 * @param nb Neighbour lists (from {@link exactNeighbours} or `approximateNeighbours`).
 * @returns The graph (each pair once).
 *
 * @example
 * ```ts
 * import { exactNeighbours, neighbourGraph } from "./point_graphs.ts";
 * const g = neighbourGraph(exactNeighbours([[0], [1], [3], [7]], 1));
 * if (g.from.length !== 3) throw new Error(); // {0,1}, {1,2}, {2,3}
 * ```
 *
 * @category Graphs of points
 */
export function neighbourGraph(nb: Neighbours): Graph {
  const { n, k, index, distance2 } = nb;
  const a = new Int32Array(n * k), b = new Int32Array(n * k), w = new Float64Array(n * k);
  let c = 0;
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = index[i * k + t];
      if (j < 0) continue;
      a[c] = i;
      b[c] = j;
      w[c++] = -distance2[i * k + t];
    }
  }
  return graphFromPairs(n, a, b, w, c);
}

/**
 * The exact symmetrised kNN graph of points (see {@link exactNeighbours} for the cost).
 *
 * @param points n × d coordinates.
 * @param k Neighbours per point, an integer in [1, n − 1].
 * @param options As {@link exactNeighbours}: the matrix product (`gemm`), block sizes, progress
 *   callback (or the progress callback alone).
 * @returns The graph.
 * @throws {TypeError | RangeError} As {@link exactNeighbours}.
 *
 * @example
 * ```ts
 * import { knnGraph } from "./point_graphs.ts";
 * if (knnGraph([[0, 0], [0, 1], [5, 5]], 1).from.length !== 2) throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function knnGraph(
  points: PointsLike,
  k: number,
  options?: ExactNeighboursOptions | ProgressCallback,
): Graph {
  return neighbourGraph(exactNeighbours(points, k, options));
}

/**
 * Adds edges to a disconnected graph until it spans: the c − 1 edges of a minimum spanning tree
 * of the component centroids, each realised by a close pair of points of the two components
 * (the member of A nearest to B's centroid, then the member of B nearest to it), weight
 * −distance². Cost O(c² d + c n d). Exact single linkage across components is not claimed: it
 * only guarantees that every k ≥ 1 has a forest; within components nothing changes.
 *
 * @param g A graph on the points.
 * @param points The n × d coordinates of the graph's points.
 * @returns `g` itself when connected, else a new graph with the joining edges appended.
 * @throws {TypeError | RangeError} If `points` is invalid or does not have n rows.
 *
 * @example Two pairs far apart are joined by one edge
 * ```ts
 * import { graph, graphComponents } from "./graph.ts";
 * import { joinComponents } from "./point_graphs.ts";
 * const g = joinComponents(graph(4, [[0, 1, -1], [2, 3, -1]]), [[0], [1], [10], [11]]);
 * if (graphComponents(g).count !== 1 || g.from.length !== 3) throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function joinComponents(g: Graph, points: PointsLike): Graph {
  const p = toRectMatrix(points, "points");
  if (p.rows !== g.n) {
    throw new RangeError(`Invalid points: ${p.rows} rows but the graph has n = ${g.n} points`);
  }
  const { count: c, labels } = graphComponents(g);
  if (c === 1) return g;
  const n = g.n, d = p.cols, x = p.data;
  const centroid = new Float64Array(c * d), size = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    size[labels[i]]++;
    for (let t = 0; t < d; t++) centroid[labels[i] * d + t] += x[i * d + t];
  }
  for (let a = 0; a < c; a++) for (let t = 0; t < d; t++) centroid[a * d + t] /= size[a];
  // Prim on the centroids (c × c, computed on the fly).
  const inTree = new Uint8Array(c), best = new Float64Array(c).fill(Infinity);
  const parent = new Int32Array(c).fill(-1);
  const cd = (a: number, b: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (centroid[a * d + t] - centroid[b * d + t]) ** 2;
    return s;
  };
  let v = 0;
  inTree[0] = 1;
  const joins: [number, number][] = [];
  for (let step = 1; step < c; step++) {
    let next = -1;
    for (let u = 0; u < c; u++) {
      if (inTree[u]) continue;
      const dv = cd(v, u);
      if (dv < best[u]) {
        best[u] = dv;
        parent[u] = v;
      }
      if (next === -1 || best[u] < best[next]) next = u;
    }
    inTree[next] = 1;
    joins.push([parent[next], next]);
    v = next;
  }
  const nearestTo = (comp: number, q: Float64Array, qo: number) => {
    let bi = -1, bd = Infinity;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== comp) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += (x[i * d + t] - q[qo + t]) ** 2;
      if (s < bd) {
        bd = s;
        bi = i;
      }
    }
    return bi;
  };
  const m = g.from.length, extra = joins.length;
  const from = new Int32Array(m + extra), to = new Int32Array(m + extra);
  const weight = new Float64Array(m + extra);
  from.set(g.from);
  to.set(g.to);
  weight.set(g.weight);
  for (let t = 0; t < extra; t++) {
    const [a, b] = joins[t];
    const i = nearestTo(a, centroid, b * d), j = nearestTo(b, x, i * d);
    from[m + t] = Math.min(i, j);
    to[m + t] = Math.max(i, j);
    weight[m + t] = -squaredDistance(x, d, i, j);
  }
  return { n, from, to, weight };
}

/**
 * HDBSCAN's mutual-reachability similarities on a graph: weight −max(core_i, core_j, d_ij)²,
 * where core_i is the distance from i to its `minSamples`-th nearest neighbour (itself not
 * counted) and d_ij = √(−w_ij). A point in a sparse region (a bridge) has a large core distance,
 * so its edges become weak and single linkage no longer chains clusters through it.
 *
 * @param g A graph whose weights are −‖x_i − x_j‖² (as built here).
 * @param nb Neighbour lists of the same points with k ≥ `minSamples`.
 * @param minSamples Which neighbour defines the core distance, an integer in [1, nb.k].
 * @returns A graph with the same edges and mutual-reachability weights.
 * @throws {RangeError} If `minSamples` is out of range or `nb` is for another n.
 *
 * @example A bridge point's edges weaken
 * ```ts
 * import { exactNeighbours, mutualReachability, neighbourGraph } from "./point_graphs.ts";
 * const pts = [[0], [0.1], [0.2], [5], [10], [10.1], [10.2]];
 * const nb = exactNeighbours(pts, 2);
 * const g = mutualReachability(neighbourGraph(nb), nb, 2);
 * if (!(Math.min(...g.weight) < -20)) throw new Error();
 * ```
 *
 * @category Graphs of points
 */
export function mutualReachability(g: Graph, nb: Neighbours, minSamples: number): Graph {
  assertIntegerInRange("minSamples", minSamples, 1, nb.k, `(neighbour lists have k = ${nb.k})`);
  if (nb.n !== g.n) {
    throw new RangeError(`Invalid neighbours: n = ${nb.n} but the graph has n = ${g.n}`);
  }
  const core = new Float64Array(g.n);
  for (let i = 0; i < g.n; i++) core[i] = nb.distance2[i * nb.k + minSamples - 1];
  const weight = new Float64Array(g.weight.length);
  for (let e = 0; e < weight.length; e++) {
    const d2 = -g.weight[e], ca = core[g.from[e]], cb = core[g.to[e]];
    if (!(d2 >= 0)) {
      throw new RangeError(
        `Invalid graph edge ${e} weight ${
          show(g.weight[e])
        }: mutual reachability needs weights −distance² ≤ 0`,
      );
    }
    weight[e] = -Math.max(d2, ca < Infinity ? ca : d2, cb < Infinity ? cb : d2);
  }
  return { n: g.n, from: g.from, to: g.to, weight };
}
