/**
 * How sure an assignment is: the probability that a point belongs to each fitted cluster when
 * the fitted graph and the point's own edges are perturbed (Definition 6 of Stewart et al.,
 * 2023, read point by point).
 *
 * For each point and Monte-Carlo sample s (`_membership_chunk.ts` for the algorithm): every
 * edge of the fitted graph is perturbed (w + εz, z iid ν), and so are the point's edges to its
 * m nearest training points (its similarities + εζ); the model's cut is solved on the
 * perturbed graph with the point inserted (new points one at a time); R_s is the point's tree;
 * w_s = argmax_c |R_s ∩ C_c| over the fitted clusters C_c (ties to the lowest c), or −1 when
 * R_s holds no training point. Then
 *
 *   p_c = share of the samples with w_s = c,   1 − Σ_c p_c = the outlier probability.
 *
 * Training points (`points = "training"`) use the same definition on the perturbed training
 * graph (R_s is the point's own tree, so never −1). As ε → 0 the probabilities become
 * `assignPoints` with `outliers: "reject"`: all mass on the assigned cluster, or on "outlier"
 * when s* is below the cut level (for a k cut, the k-forest of train ∪ {x} then cuts x off).
 *
 * Samples are split into at most 16 fixed chunks (antithetic pairs never split), run in order
 * here or spread over a {@link MembershipWorkerPool}: the counts are integers, and the
 * gradient's sums are added chunk by chunk in chunk order, so both paths give bit-identical
 * results for any pool size.
 *
 * The VJP ({@link clusterMembershipVjp}) differentiates E[⟨γ, onehot(w)⟩] with respect to the
 * points' coordinates by the score-function identity on the points' own edge noise (Berthet et
 * al., 2020): ∂/∂s_j E[g] = (1/ε) E[g ∇ν(ζ_j)], with a leave-one-out baseline (or none for
 * antithetic pairs, where constants cancel), then the chain rule through s_j = Σ(x, y_j) and the
 * preprocessing. The set of the m nearest training points is held fixed (the probabilities jump
 * where it changes, unless m = n).
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import type { NoiseName } from "../core/noise.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import { assertSeed, checkPerturbedOptions } from "../perturbed/perturbed.ts";
import type { NeighbourGemm } from "./exact_neighbours.ts";
import {
  assertFittedClusters,
  type FittedClusters,
  modelIndex,
  preprocessPoints,
  similaritiesTo,
} from "./fitted_clusters.ts";
import type { Graph } from "./graph.ts";
import { queryNeighbours } from "./neighbour_index.ts";
import {
  CUT_K,
  CUT_MIN_SIZE,
  CUT_THRESHOLD,
  type MembershipChunkRequest,
  type MembershipChunkResult,
  runMembershipChunk,
} from "./_membership_chunk.ts";

/**
 * Options of {@link clusterMembership}.
 *
 * @category Fitted clusterings
 */
export interface MembershipOptions {
  /** Noise scale ε > 0, in Σ's units (the model's similarities). */
  readonly epsilon: number;
  /** Monte-Carlo samples (even when antithetic; at least 2 for the VJP's baseline). */
  readonly samples: number;
  /** Distribution ν (default "gaussian"). */
  readonly noise?: NoiseName;
  /** Antithetic pairs (z, −z), Gaussian noise only (default false). */
  readonly antithetic?: boolean;
  /** Seed of the estimate (default 0): same seed, same numbers. */
  readonly seed?: number;
  /** m: edges from a new point to its m nearest training points (default the model's kNN
   * neighbours, at least its minSamples, at most n). */
  readonly neighbours?: number;
  /** Matrix product of the exact neighbour search. */
  readonly gemm?: NeighbourGemm;
}

/**
 * Cluster probabilities of points.
 *
 * @category Fitted clusterings
 */
export interface Membership {
  /** Number of points. */
  readonly points: number;
  /** Number of fitted clusters K. */
  readonly clusters: number;
  /** points × K, row-major: p_c of each point. */
  readonly probabilities: Float64Array;
  /** The outlier probability 1 − Σ_c p_c of each point (samples whose tree held no training
   * point). */
  readonly outlier: Float64Array;
}

/**
 * {@link Membership} and the VJP with respect to the points.
 *
 * @category Fitted clusterings
 */
export interface MembershipWithVjp extends Membership {
  /** points × d: ∂⟨γ, [p, outlier]⟩ / ∂(raw coordinates). */
  readonly gradient: RectMatrix;
}

/** What the chunks share, and how the samples are split. */
export interface PreparedMembership {
  /** The request without its id and sample range. */
  readonly request: Omit<MembershipChunkRequest, "id" | "lo" | "hi">;
  /** The fixed chunks [lo, hi). */
  readonly chunks: readonly (readonly [number, number])[];
  /** Preprocessed points and their neighbour lists (new points only, for the VJP). */
  readonly x: RectMatrix | undefined;
  readonly neighbours: { readonly index: Int32Array; readonly distance2: Float64Array } | undefined;
  /** For cosine, ‖u‖ of each new point before its scaling to unit length (u standardised). */
  readonly norms: Float64Array | undefined;
}

/** At most this many chunks per estimate (so a pool of up to 16 workers is kept busy). */
const CHUNKS = 16;

const completeGraphs = new WeakMap<FittedClusters, Graph>();

/**
 * The fitted graph of a model: the stored one, or for a dense fit the complete graph with the
 * dense fit's similarities (−‖x_i − x_j‖², or −max(‖x_i − x_j‖², core_i², core_j²)).
 */
function fittedGraph(model: FittedClusters): Graph {
  if (model.graph !== undefined) return model.graph;
  let g = completeGraphs.get(model);
  if (g === undefined) {
    const n = model.n, d = model.d, x = model.points.data, m = (n * (n - 1)) / 2;
    const from = new Int32Array(m), to = new Int32Array(m), weight = new Float64Array(m);
    const core = model.minSamples === undefined ? undefined : model.core;
    for (let i = 0, e = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, e++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (x[i * d + t] - x[j * d + t]) ** 2;
        from[e] = i;
        to[e] = j;
        weight[e] = core === undefined ? -s : -Math.max(s, core[i], core[j]);
      }
    }
    g = { n, from, to, weight };
    completeGraphs.set(model, g);
  }
  return g;
}

/**
 * Checks the options and the points, finds the new points' neighbours, and splits the samples
 * (shared by {@link clusterMembership} and the worker pool).
 *
 * @param model A fitted model.
 * @param points New points, or "training".
 * @param options The options.
 * @param cotangent points × (K + 1), or undefined.
 * @returns The shared request and the chunks.
 * @throws {TypeError | RangeError} As {@link clusterMembership}.
 */
export function prepareMembership(
  model: FittedClusters,
  points: PointsLike | "training",
  options: MembershipOptions,
  cotangent?: PointsLike,
): PreparedMembership {
  assertFittedClusters("model", model);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const o = checkPerturbedOptions({
    epsilon: options.epsilon,
    samples: options.samples,
    noise: options.noise ?? "gaussian",
    antithetic: options.antithetic,
  });
  const seed = options.seed ?? 0;
  assertSeed(seed);
  const n = model.n, K = model.clusters, ms = model.minSamples ?? 1;
  const m = options.neighbours ?? Math.min(n, Math.max(model.neighbours, ms));
  assertIntegerInRange("neighbours", m, ms, n, `for n = ${n} training points`);
  const training = points === "training";
  const x = training ? undefined : preprocessPoints(model, points, "points");
  const q = training ? n : x!.rows;
  let cot: Float64Array | null = null;
  if (cotangent !== undefined) {
    if (training) {
      throw new RangeError(
        'Invalid points = "training" with a cotangent: the VJP is with respect to new points',
      );
    }
    const c = toRectMatrix(cotangent, "cotangent");
    if (c.rows !== q || c.cols !== K + 1) {
      throw new RangeError(
        `Invalid cotangent: ${c.rows} × ${c.cols}, expected points × (clusters + 1) = ${q} × ${
          K + 1
        } (the last column is the outlier probability's)`,
      );
    }
    if (!o.antithetic && o.samples < 2) {
      throw new RangeError(
        `Invalid samples = ${o.samples}: the VJP's leave-one-out baseline needs at least 2`,
      );
    }
    cot = c.data;
  }
  const g = fittedGraph(model);
  let neighbour: Int32Array | null = null, similarity: Float64Array | null = null;
  let nb: { index: Int32Array; distance2: Float64Array } | undefined;
  if (!training) {
    const lists = queryNeighbours(modelIndex(model), x!, m, { gemm: options.gemm });
    neighbour = lists.index;
    similarity = similaritiesTo(model, lists);
    nb = lists;
  }
  const cut = model.cut;
  const request = {
    n,
    from: g.from,
    to: g.to,
    weight: g.weight,
    labels: model.labels,
    clusters: K,
    cut: cut.kind === "k" ? CUT_K : cut.kind === "threshold" ? CUT_THRESHOLD : CUT_MIN_SIZE,
    k: cut.kind === "threshold" ? 1 : cut.k,
    threshold: cut.kind === "threshold" ? cut.threshold : 0,
    minSize: cut.kind === "min-size" ? cut.minSize : 1,
    points: q,
    m: training ? 0 : m,
    neighbour,
    similarity,
    cotangent: cot,
    epsilon: o.epsilon,
    noise: o.noise,
    antithetic: o.antithetic,
    seed,
  };
  let norms: Float64Array | undefined;
  if (cot !== null && model.metric === "cosine") {
    const u = preprocessPoints({ ...model, metric: "sqeuclidean" }, points as PointsLike, "points");
    norms = new Float64Array(q);
    for (let p = 0; p < q; p++) {
      let s = 0;
      for (let t = 0; t < model.d; t++) s += u.data[p * model.d + t] ** 2;
      norms[p] = Math.sqrt(s);
    }
  }
  const unit = o.antithetic ? 2 : 1;
  const size = unit * Math.ceil(o.samples / unit / CHUNKS);
  const chunks: [number, number][] = [];
  for (let lo = 0; lo < o.samples; lo += size) chunks.push([lo, Math.min(o.samples, lo + size)]);
  return { request, chunks, x, neighbours: nb, norms };
}

/**
 * Adds the chunks' sums in chunk order and turns them into probabilities (and, with a
 * cotangent, the gradient).
 *
 * @param model The model.
 * @param prepared What {@link prepareMembership} returned.
 * @param results One result per chunk, in chunk order.
 * @returns The membership, with the gradient when the request had a cotangent.
 */
export function combineMembership(
  model: FittedClusters,
  prepared: PreparedMembership,
  results: readonly MembershipChunkResult[],
): Membership | MembershipWithVjp {
  const r = prepared.request, q = r.points, K = r.clusters, m = r.m;
  const samples = prepared.chunks[prepared.chunks.length - 1][1];
  const counts = new Float64Array(q * (K + 1));
  const grad = r.cotangent !== null;
  const weighted = new Float64Array(grad ? q * m : 0), plain = new Float64Array(grad ? q * m : 0);
  const payoff = new Float64Array(grad ? q : 0);
  for (const c of results) {
    for (let t = 0; t < counts.length; t++) counts[t] += c.counts[t];
    for (let t = 0; t < weighted.length; t++) {
      weighted[t] += c.weighted[t];
      plain[t] += c.plain[t];
    }
    for (let t = 0; t < payoff.length; t++) payoff[t] += c.payoff[t];
  }
  const probabilities = new Float64Array(q * K), outlier = new Float64Array(q);
  for (let p = 0; p < q; p++) {
    for (let c = 0; c < K; c++) probabilities[p * K + c] = counts[p * (K + 1) + c] / samples;
    outlier[p] = counts[p * (K + 1) + K] / samples;
  }
  const membership = { points: q, clusters: K, probabilities, outlier };
  if (!grad) return membership;
  // ∂E[g]/∂s_pj = (1/ε) E[(g − c) ∇ν(ζ_j)], c the leave-one-out mean (none when antithetic).
  const baseline = !r.antithetic;
  const factor = baseline ? samples / (samples - 1) : 1, scale = factor / (r.epsilon * samples);
  const x = prepared.x!, nb = prepared.neighbours!, d = model.d, y = model.points.data;
  const gx = new Float64Array(q * d), ms = model.minSamples, core = model.core;
  for (let p = 0; p < q; p++) {
    const mean = payoff[p] / samples;
    const cx = ms === undefined ? 0 : nb.distance2[p * m + ms - 1];
    const coreOwner = ms === undefined ? -1 : nb.index[p * m + ms - 1];
    for (let j = 0; j < m; j++) {
      const ds = (weighted[p * m + j] - (baseline ? mean * plain[p * m + j] : 0)) * scale;
      if (ds === 0) continue;
      // s_j = −max(d_j², core_x², core_y²): the derivative flows through the largest term.
      let towards = nb.index[p * m + j];
      if (ms !== undefined) {
        const d2 = nb.distance2[p * m + j], cy = core![towards] < Infinity ? core![towards] : d2;
        if (!(d2 >= cx && d2 >= cy)) {
          if (cx >= cy) towards = coreOwner;
          else continue;
        }
      }
      for (let t = 0; t < d; t++) {
        gx[p * d + t] += ds * -2 * (x.data[p * d + t] - y[towards * d + t]);
      }
    }
  }
  const data = rawGradient(model, x, prepared.norms, gx, q);
  return { ...membership, gradient: { rows: q, cols: d, data } };
}

/**
 * Pulls a gradient with respect to the preprocessed coordinates back to the raw ones: through
 * the unit scaling of cosine (x̂ = u/‖u‖: (I − x̂x̂ᵀ)/‖u‖) and the standardisation (1/sd).
 */
function rawGradient(
  model: FittedClusters,
  x: RectMatrix,
  norms: Float64Array | undefined,
  g: Float64Array,
  q: number,
): Float64Array {
  const d = model.d;
  if (model.metric === "cosine") {
    for (let p = 0; p < q; p++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += x.data[p * d + t] * g[p * d + t];
      for (let t = 0; t < d; t++) {
        g[p * d + t] = (g[p * d + t] - x.data[p * d + t] * dot) / norms![p];
      }
    }
  }
  if (model.sd !== undefined) {
    for (let p = 0; p < q; p++) {
      for (let t = 0; t < d; t++) g[p * d + t] = model.sd[t] > 0 ? g[p * d + t] / model.sd[t] : 0;
    }
  }
  return g;
}

/**
 * The probability of each fitted cluster for each point (module doc): a Monte-Carlo estimate
 * over `samples` perturbations of the fitted graph and of the point's edges. Cost per sample:
 * one Kruskal pass over the fitted graph (O(m_g) after a radix sort), then O(m log m) per new
 * point for threshold and k cuts, O(n) per point for minimum-size cuts.
 *
 * @param model A model from `fitClusters` (or loaded back).
 * @param points q × d raw coordinates of new points, or "training" for the training points.
 * @param options ε, samples, noise, antithetic, seed, m (neighbours), matrix product.
 * @returns q × K probabilities and the outlier probabilities.
 * @throws {TypeError | RangeError} One line naming the argument and value, before any work:
 *   invalid options (as `makePerturbed`'s), seed, m, a model that is not one, points of
 *   another dimension, non-finite or empty.
 *
 * @example Two groups: a point between them is unsure, one inside a group is not
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { clusterMembership } from "./membership.ts";
 * import assert from "node:assert/strict";
 * const model = fitClusters([[0], [1], [2], [10], [11], [12]], { k: 2 });
 * const p = clusterMembership(model, [[1.5], [6]], { epsilon: 4, samples: 400, seed: 1 });
 * assert.equal(p.probabilities[0], 1); // [1.5]: cluster 0 in every sample
 * assert.ok(p.probabilities[2] > 0.1 && p.probabilities[3] > 0.1); // [6]: either side
 * ```
 *
 * @category Fitted clusterings
 */
export function clusterMembership(
  model: FittedClusters,
  points: PointsLike | "training",
  options: MembershipOptions,
): Membership {
  const prepared = prepareMembership(model, points, options);
  const results = prepared.chunks.map(([lo, hi], id) =>
    runMembershipChunk({ ...prepared.request, id, lo, hi })
  );
  return combineMembership(model, prepared, results);
}

/**
 * {@link clusterMembership} and its vector–Jacobian product with respect to the new points'
 * raw coordinates: ∂⟨γ, [p, outlier]⟩/∂x (module doc: score function on the points' edge
 * noise, the set of m nearest training points held fixed).
 *
 * @param model A fitted model.
 * @param points q × d raw coordinates of new points.
 * @param cotangent q × (K + 1) weights γ: one per cluster, the last for the outlier class.
 * @param options As {@link clusterMembership} (samples ≥ 2 without antithetic pairs).
 * @returns The membership and the q × d gradient.
 * @throws {TypeError | RangeError} As {@link clusterMembership}, or a cotangent of another
 *   shape.
 *
 * @example Moving a point towards a group raises that group's probability
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { clusterMembershipVjp } from "./membership.ts";
 * const model = fitClusters([[0], [1], [2], [10], [11], [12]], { k: 2 });
 * const r = clusterMembershipVjp(model, [[6]], [[1, 0, 0]], { epsilon: 4, samples: 2000 });
 * if (!(r.gradient.data[0] < 0)) throw new Error(); // p_0 grows as x moves towards 0
 * ```
 *
 * @category Fitted clusterings
 */
export function clusterMembershipVjp(
  model: FittedClusters,
  points: PointsLike,
  cotangent: PointsLike,
  options: MembershipOptions,
): MembershipWithVjp {
  const prepared = prepareMembership(model, points, options, cotangent);
  const results = prepared.chunks.map(([lo, hi], id) =>
    runMembershipChunk({ ...prepared.request, id, lo, hi })
  );
  return combineMembership(model, prepared, results) as MembershipWithVjp;
}
