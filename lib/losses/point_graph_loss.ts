/**
 * The perturbed partial Fenchel–Young loss of a batch of points (embeddings) through a sparse
 * graph of the batch, and its exact gradient in the points: the graph form of the dense loss that
 * `tf/cluster_loss.ts` trains with, for batches where n × n is too much (n ≈ 10³).
 *
 * Graph. {@link labelledNeighbourGraph}: the exact symmetrised kNN graph of the points, plus, for
 * each class of the labels whose points the kNN graph leaves in several pieces, the c − 1 edges
 * that {@link joinComponents} picks to join them (inside the class), plus joins between the
 * remaining components. The class joins are what makes the constrained solve possible: with every
 * point labelled, a forest that respects the labels holds one spanning tree of each class, which
 * exists only when the class is connected in the graph by its own points (in the dense loss
 * every pair is an edge, so it always is). The kNN part depends on the points; the loss below
 * holds the graph fixed, so its gradient is the gradient with the graph held fixed (the graph is
 * piecewise constant in the points, and training rebuilds it at every step).
 *
 * Weights. As the dense path's Σ: s_ij = −‖x_i − x_j‖², and with `standardise` (the default, as
 * the dense path and the paper's code) w_e = (s_e − μ)/σ, where μ and σ² are the mean and the
 * population variance of s over ALL n² ordered pairs of the batch (diagonal included, σ² floored
 * by 10⁻¹² as `standardiseTf`), not over the edges. So on the complete graph the weights are the
 * dense standardised Σ's entries, and ε keeps the dense meaning (a fraction of the spread of all
 * pairwise similarities of a batch) at every batch size. The moments cost O(n d²) by the Gram
 * identities below, not O(n² d).
 *
 * Loss. The partial loss of `fy_loss_on_graph.ts` with the labels (Definition 8 with M_Ω from the
 * labels, noise on the edges): ℓ̂ = mean_b [F(w + εz_b) − F(w + εz_b; labels)], ∇_w ℓ̂ = g =
 * 2(â_ε − â_ε(labels)). It is what the dense supervised path computes (`partialFyLoss` with
 * `constraintsFromLabels`), restricted to the graph's edges; with every point labelled the
 * constrained solve is exact (one maximum spanning tree per class). On the complete graph in
 * row-major order (`completeGraph`) the noise is the dense noise, coordinate for coordinate, so
 * loss and gradient are the dense ones (tested).
 *
 * Gradient in the points (chain rule, graph and noise fixed). With D_e = ‖x_a − x_b‖² for edge
 * e = (a, b), ∂D_e/∂x_a = 2(x_a − x_b) = −∂D_e/∂x_b. Without standardisation w_e = −D_e, so
 *
 *   ∂ℓ/∂x_a += −2 g_e (x_a − x_b),   ∂ℓ/∂x_b += +2 g_e (x_a − x_b)   for every edge e = (a, b)
 *
 * (the dense −4 Σ_j G_ij (x_i − x_j) with g_e = G_ab + G_ba = 2 G_ab). With standardisation
 * w_e = (m − D_e)/σ, m = mean D = −μ, and
 *
 *   ∂ℓ/∂x_i = (1/σ) Σ_e g_e (∂m/∂x_i − ∂D_e/∂x_i) − (Σ_e g_e w_e / σ) ∂σ/∂x_i,
 *
 * where, with y_i = x_i − x̄, r_i = ‖y_i‖², R = Σ r_i, q = Σ r_j y_j, C = Σ y_j y_jᵀ (d × d) and
 * N = n², over the n² ordered pairs:
 *
 *   S₁ = Σ_ij D_ij = 2nR,   S₂ = Σ_ij D_ij² = 2n Σ r_i² + 2R² + 4‖C‖²_F,
 *   m = S₁/N,  σ² = S₂/N − m² (+10⁻¹²),
 *   ∂m/∂x_i = 4 y_i / n,   ∂S₂/∂x_i = 8 Σ_j D_ij (y_i − y_j) = 8 ((n r_i + R) y_i − q + 2 C y_i),
 *   ∂σ/∂x_i = (∂S₂/∂x_i / N − 2m ∂m/∂x_i) / (2σ).
 *
 * (Σ_j y_j = 0 removes the other terms.) Σ_e g_e = 0 for the partial loss (both forests have
 * n − k edges), so the ∂m term vanishes; it is computed anyway. The tests check this gradient
 * against central finite differences of the float64 loss with the graph and the noise fixed, and
 * the moments against the O(n² d) sums.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { assertGraph, type Graph, withWeights } from "../graph/graph.ts";
import { classIds, type PartialLabels } from "../constrained/constrained_forest_on_graph.ts";
import { type GraphFyLossOptions, partialFyLossOnGraph } from "./fy_loss_on_graph.ts";
import {
  exactNeighbours,
  joinComponents,
  neighbourGraph,
  squaredDistance,
} from "../graph/point_graphs.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";

/** The floor added to the variance before its square root, as `standardiseTf` does. */
export const VARIANCE_FLOOR = 1e-12;

/**
 * Adds, inside each class of `labels`, the edges that join the pieces the graph leaves the
 * class's points in ({@link joinComponents} on the class's induced subgraph), so that every
 * class is connected by its own points. Unlabelled points are left as they are.
 *
 * @param g A graph on the points.
 * @param points The n × d coordinates of the graph's points.
 * @param labels Partial labels of the points (see `PartialLabels`).
 * @returns `g` itself when every class is already connected, else a new graph with the joining
 * edges appended (weights −distance², as `joinComponents`).
 * @throws {TypeError | RangeError} If `points` or `labels` are invalid or not of n entries.
 *
 * @example Class 0 sits at both ends of a path through class 1: one edge joins it
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { joinClasses } from "./point_graph_loss.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -1], [2, 3, -1]]);
 * const h = joinClasses(g, [[0], [1], [2], [3]], [0, 1, 1, 0]);
 * assert.deepEqual([h.from[3], h.to[3]], [0, 3]);
 * ```
 */
export function joinClasses(g: Graph, points: PointsLike, labels: PartialLabels): Graph {
  const p = toRectMatrix(points, "points");
  if (p.rows !== g.n) {
    throw new RangeError(`Invalid points: ${p.rows} rows but the graph has n = ${g.n} points`);
  }
  const { ids, classes } = classIds("labels", labels, g.n);
  const n = g.n, d = p.cols;
  // Each class's points, in increasing order, and each point's position in its class.
  const members: number[][] = Array.from({ length: classes }, () => []);
  const local = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    if (ids[i] === -1) continue;
    local[i] = members[ids[i]].length;
    members[ids[i]].push(i);
  }
  const extraFrom: number[] = [], extraTo: number[] = [], extraWeight: number[] = [];
  for (let c = 0; c < classes; c++) {
    const pts = members[c];
    if (pts.length < 2) continue;
    const from: number[] = [], to: number[] = [], weight: number[] = [];
    for (let e = 0; e < g.from.length; e++) {
      const a = g.from[e], b = g.to[e];
      if (ids[a] === c && ids[b] === c) {
        from.push(local[a]);
        to.push(local[b]);
        weight.push(g.weight[e]);
      }
    }
    const sub: Graph = {
      n: pts.length,
      from: Int32Array.from(from),
      to: Int32Array.from(to),
      weight: Float64Array.from(weight),
    };
    const coords = new Float64Array(pts.length * d);
    for (let t = 0; t < pts.length; t++) {
      coords.set(p.data.subarray(pts[t] * d, pts[t] * d + d), t * d);
    }
    const joined = joinComponents(sub, { rows: pts.length, cols: d, data: coords });
    for (let e = sub.from.length; e < joined.from.length; e++) {
      const a = pts[joined.from[e]], b = pts[joined.to[e]];
      extraFrom.push(Math.min(a, b));
      extraTo.push(Math.max(a, b));
      extraWeight.push(joined.weight[e]);
    }
  }
  if (extraFrom.length === 0) return g;
  const m = g.from.length, total = m + extraFrom.length;
  const from = new Int32Array(total), to = new Int32Array(total), weight = new Float64Array(total);
  from.set(g.from);
  to.set(g.to);
  weight.set(g.weight);
  from.set(extraFrom, m);
  to.set(extraTo, m);
  weight.set(extraWeight, m);
  return { n, from, to, weight };
}

/**
 * The training graph of a labelled batch (module doc): the exact symmetrised kNN graph of the
 * points, then {@link joinClasses}, then `joinComponents` so that it spans. Weights
 * −‖x_i − x_j‖² (the loss replaces them). Cost O(n² d) for the neighbour search.
 *
 * @param points The n × d points (n ≥ 2).
 * @param labels Partial labels of the points.
 * @param neighbours Neighbours per point, an integer in [1, n − 1].
 * @returns A connected graph in which every class is connected by its own points.
 * @throws {TypeError | RangeError} If `points` or `labels` are invalid, or `neighbours` is out of
 * range (the message names it and n).
 *
 * @example Two classes, one neighbour each: the classes end up connected
 * ```ts
 * import { labelledNeighbourGraph } from "./point_graph_loss.ts";
 * import { graphComponents } from "../graph/graph.ts";
 * import assert from "node:assert/strict";
 * const g = labelledNeighbourGraph([[0], [1], [10], [11], [20]], [0, 1, 0, 1, 0], 1);
 * assert.equal(graphComponents(g).count, 1);
 * ```
 *
 * @category Losses
 */
export function labelledNeighbourGraph(
  points: PointsLike,
  labels: PartialLabels,
  neighbours: number,
): Graph {
  const p = toRectMatrix(points, "points");
  if (p.rows < 2) {
    throw new RangeError(`Invalid points: a neighbour graph needs n ≥ 2 points, got n = ${p.rows}`);
  }
  assertIntegerInRange(
    "neighbours",
    neighbours,
    1,
    p.rows - 1,
    `for a batch of n = ${p.rows} points (a point has at most n − 1 neighbours)`,
  );
  const knn = neighbourGraph(exactNeighbours(p, neighbours));
  return joinComponents(joinClasses(knn, p, labels), p);
}

/** Mean and variance of s_ij = −‖x_i − x_j‖² over all n² ordered pairs (diagonal included). */
export interface PairMoments {
  /** μ = mean of s (≤ 0). */
  readonly mean: number;
  /** The population variance of s. */
  readonly variance: number;
}

/** The centred points and the Gram quantities of the module doc. */
interface Gram {
  /** y = x − x̄, n × d. */
  readonly y: Float64Array;
  /** r_i = ‖y_i‖². */
  readonly r: Float64Array;
  /** R = Σ r_i. */
  readonly bigR: number;
  /** C = Σ y_j y_jᵀ, d × d (symmetric, full). */
  readonly c: Float64Array;
  /** m = mean D over the n² pairs. */
  readonly meanD: number;
  /** S₂ / N − m². */
  readonly variance: number;
}

function gram(p: RectMatrix): Gram {
  const n = p.rows, d = p.cols, x = p.data;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += x[i * d + t];
  for (let t = 0; t < d; t++) mean[t] /= n;
  const y = new Float64Array(n * d), r = new Float64Array(n);
  let bigR = 0, sumR2 = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = x[i * d + t] - mean[t];
      y[i * d + t] = v;
      s += v * v;
    }
    r[i] = s;
    bigR += s;
    sumR2 += s * s;
  }
  const c = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let a = 0; a < d; a++) {
      const ya = y[o + a];
      if (ya === 0) continue;
      const row = a * d;
      for (let b = a; b < d; b++) c[row + b] += ya * y[o + b];
    }
  }
  let frob = 0;
  for (let a = 0; a < d; a++) {
    frob += c[a * d + a] * c[a * d + a];
    for (let b = a + 1; b < d; b++) {
      c[b * d + a] = c[a * d + b];
      frob += 2 * c[a * d + b] * c[a * d + b];
    }
  }
  const bigN = n * n;
  const meanD = (2 * n * bigR) / bigN;
  const s2 = 2 * n * sumR2 + 2 * bigR * bigR + 4 * frob;
  // Rounding can leave a tiny negative difference for (near-)coincident points.
  const variance = Math.max(0, s2 / bigN - meanD * meanD);
  return { y, r, bigR, c, meanD, variance };
}

/**
 * Mean and population variance of s_ij = −‖x_i − x_j‖² over all n² ordered pairs of the points,
 * diagonal included (what `standardiseTf` standardises the dense Σ by), in O(n d²) time through
 * the Gram identities of the module doc.
 *
 * @param points The n × d points.
 * @returns The moments.
 * @throws {TypeError | RangeError} If `points` is not a finite point set.
 *
 * @example Two points at distance 2: entries 0, −4, −4, 0
 * ```ts
 * import { pairMoments } from "./point_graph_loss.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(pairMoments([[0], [2]]), { mean: -2, variance: 4 });
 * ```
 */
export function pairMoments(points: PointsLike): PairMoments {
  const g = gram(toRectMatrix(points, "points"));
  return { mean: -g.meanD, variance: g.variance };
}

/**
 * Options of {@link partialFyLossOfPointsOnGraph}.
 *
 * @category Losses
 */
export interface PointGraphLossOptions extends GraphFyLossOptions {
  /** Standardise the weights by the moments of all n² pairs (module doc). Default true. */
  readonly standardise?: boolean;
}

/**
 * The loss of a batch of points on a graph, with its gradients.
 *
 * @category Losses
 */
export interface PointGraphLoss {
  /** The Monte-Carlo estimate ℓ̂ of the partial Fenchel–Young loss. */
  readonly loss: number;
  /** ∂ℓ̂/∂x, n × d row-major (graph and noise fixed). */
  readonly grad: Float64Array;
  /** The edge weights w the loss saw (standardised when asked). */
  readonly weights: Float64Array;
  /** ∂ℓ̂/∂w per edge (`fy_loss_on_graph.ts`'s gradient). */
  readonly edgeGrad: Float64Array;
}

/**
 * The partial Fenchel–Young loss of points on a fixed graph and its gradient in the points (the
 * factory of the module doc). Only the graph's edges are used (its weights are ignored and
 * recomputed from the points).
 *
 * @param opts ε, samples, noise, antithetic, k, and `standardise` (default true).
 * @returns `(points, graph, labels, seed) => { loss, grad, weights, edgeGrad }`; the same inputs
 * give the same result.
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on invalid
 * points (or not n rows), graph, labels, seed or k, and `InfeasibleConstraintsError` when no
 * k-forest of the graph respects the labels (use {@link labelledNeighbourGraph}).
 *
 * @example Points 1 and 2 labelled together, 0 apart: descent pulls 1 and 2 together
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { partialFyLossOfPointsOnGraph } from "./point_graph_loss.ts";
 * import assert from "node:assert/strict";
 * const pts = { rows: 4, cols: 1, data: new Float64Array([0, 0.1, 3, 3.1]) };
 * const g = graph(4, [[0, 1, 0], [1, 2, 0], [2, 3, 0]]);
 * const loss = partialFyLossOfPointsOnGraph({ k: 2, epsilon: 0.1, samples: 10, noise: "gaussian" });
 * const { loss: l, grad } = loss(pts, g, [0, 1, 1, null], 0);
 * assert.ok(l > 0);
 * assert.ok(grad[1] < 0 && grad[2] > 0); // −grad moves point 1 right and point 2 left
 * ```
 *
 * @category Losses
 */
export function partialFyLossOfPointsOnGraph(
  opts: PointGraphLossOptions,
): (points: PointsLike, g: Graph, labels: PartialLabels, seed: number) => PointGraphLoss {
  const standardise = opts.standardise ?? true;
  if (typeof standardise !== "boolean") {
    throw new TypeError(`Expected standardise to be a boolean, got ${show(standardise)}`);
  }
  const onGraph = partialFyLossOnGraph(opts);
  return (points, g, labels, seed) => {
    const p = toRectMatrix(points, "points");
    assertGraph("graph", g);
    if (p.rows !== g.n) {
      throw new RangeError(`Invalid points: ${p.rows} rows but the graph has n = ${g.n} points`);
    }
    const n = p.rows, d = p.cols, x = p.data, { from, to } = g, m = from.length;
    const dist = new Float64Array(m);
    for (let e = 0; e < m; e++) dist[e] = squaredDistance(x, d, from[e], to[e]);
    const st = standardise ? gram(p) : null;
    const sigma = st === null ? 1 : Math.sqrt(st.variance + VARIANCE_FLOOR);
    const meanD = st === null ? 0 : st.meanD;
    const weights = new Float64Array(m);
    for (let e = 0; e < m; e++) weights[e] = (meanD - dist[e]) / sigma;
    const { loss, grad: edgeGrad } = onGraph(withWeights(g, weights), labels, seed);

    // ∂ℓ/∂x through D_e (the sum over edges of the module doc).
    const grad = new Float64Array(n * d);
    for (let e = 0; e < m; e++) {
      const ge = edgeGrad[e];
      if (ge === 0) continue;
      const a = from[e] * d, b = to[e] * d, coef = (-2 * ge) / sigma;
      for (let t = 0; t < d; t++) {
        const v = coef * (x[a + t] - x[b + t]);
        grad[a + t] += v;
        grad[b + t] -= v;
      }
    }
    if (st !== null) addMomentTerms(grad, st, n, d, sigma, edgeGrad, weights);
    return { loss, grad, weights, edgeGrad };
  };
}

/** Adds the ∂m and ∂σ terms of the standardised gradient (module doc) to `grad`. */
function addMomentTerms(
  grad: Float64Array,
  st: Gram,
  n: number,
  d: number,
  sigma: number,
  edgeGrad: Float64Array,
  weights: Float64Array,
): void {
  let g1 = 0, g2 = 0;
  for (let e = 0; e < edgeGrad.length; e++) {
    g1 += edgeGrad[e];
    g2 += edgeGrad[e] * weights[e];
  }
  if (g1 === 0 && g2 === 0) return;
  const { y, r, bigR, c, meanD } = st, bigN = n * n;
  const q = new Float64Array(d);
  for (let j = 0; j < n; j++) for (let t = 0; t < d; t++) q[t] += r[j] * y[j * d + t];
  // ∂ℓ/∂x_i += (g1/σ)(4/n) y_i − (g2/σ) ∂σ/∂x_i, with
  // ∂σ/∂x_i = [8((n r_i + R) y_i − q + 2 C y_i)/N − 2m · 4 y_i/n] / (2σ).
  const meanCoef = (g1 / sigma) * (4 / n);
  const sigmaCoef = -(g2 / sigma) / (2 * sigma);
  const cy = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    if (g2 !== 0) {
      for (let a = 0; a < d; a++) {
        let s = 0;
        const row = a * d;
        for (let b = 0; b < d; b++) s += c[row + b] * y[o + b];
        cy[a] = s;
      }
    }
    const scale = n * r[i] + bigR;
    for (let t = 0; t < d; t++) {
      const yi = y[o + t];
      const dS2 = 8 * (scale * yi - q[t] + 2 * cy[t]);
      const dVar = dS2 / bigN - 2 * meanD * ((4 * yi) / n);
      grad[o + t] += meanCoef * yi + sigmaCoef * dVar;
    }
  }
}

// Former names, kept for one version (CHANGELOG.md): graph variants are named `xOnGraph`.

/**
 * @deprecated Renamed {@link partialFyLossOfPointsOnGraph}; this alias goes in the next version.
 *
 * @category Deprecated
 */
export const partialFyLossOfPoints: typeof partialFyLossOfPointsOnGraph =
  partialFyLossOfPointsOnGraph;
