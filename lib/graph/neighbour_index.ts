/**
 * Exact nearest reference points of new points: the query form of `exactNeighbours`, for
 * assigning new points to a fitted clustering (`fitted_clusters.ts`) without an n × q matrix.
 *
 * {@link neighbourIndex} prepares the reference points once: centred and scaled by a power of
 * two (the largest norm in (½, 1]), ordered so that each block of B consecutive points is
 * compact (`localityOrder`), with each block's centre, radius and largest norm.
 * {@link queryNeighbours} then orders the queries the same way and, for each block of 32 queries
 * (64 above 4 dimensions; compact query blocks have fewer reference blocks in reach):
 *
 * 1. bounds from below the distance between the query block's ball and every reference block's
 *    ball, and visits the reference blocks nearest bound first; once a bound exceeds the k-th
 *    distance of every query of the block, no later block can hold a neighbour and the search
 *    of the block stops;
 * 2. in a visited reference block, a query is in reach when the lower bound of its own distance
 *    to the block's ball is within its current k-th distance; if some query is, one matrix
 *    product (32 or 64 × d)·(d × B) gives every inner product between the two blocks, and a
 *    candidate passes the screen when the product-based estimate ‖y_i‖² + ‖y_j‖² − 2 y_i·y_j is within
 *    the query's k-th distance plus a rigorous bound on the estimate's rounding error;
 * 3. a candidate that passes is evaluated directly, ‖x_i − x_j‖² summed coordinate by
 *    coordinate from the original coordinates (the arithmetic of brute force), and offered to
 *    the query's list, ordered by (distance, index).
 *
 * **Exact, ties included**: the screen and the ball bounds carry the error bounds of
 * `exact_neighbours.ts` (its module doc gives the analysis: Higham's summation bound, twice),
 * so a true neighbour always reaches the direct evaluation, and the lists equal those of
 * sorting all n direct distances of every query by (distance, index), whatever the product
 * (float64 or float32, any BLAS). A query more than 2³⁰ times the reference radius from the
 * reference mean (or reference points whose spread is outside [2⁻⁵⁰⁰, 2⁵⁰⁰]) is searched by
 * direct distances alone: the same answer, without the product's overflow.
 *
 * Cost: the products are at most q n d multiply–adds (no pruning: data without structure), far
 * less on clustered data; d flops per evaluated candidate. Memory: one n × d copy of the
 * reference points (centred, scaled, reordered), two q × d of the queries (scaled, reordered),
 * one product tile and the q × k lists; never n × q.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type PointsLike, type RectMatrix, toRectMatrix } from "../core/rect_matrix.ts";
import { DEFAULT_BLOCK_SIZE } from "./exact_neighbours.ts";
import { checkGemm, type GemmAbT, jsGemm, type NeighbourGemm } from "./_neighbour_gemm.ts";
import { BALL_SLACK, centreAndScale, TINY32, TINY64, U32, U64 } from "./_gemm_screen.ts";
import { localityOrder } from "./_locality_order.ts";
import {
  type Neighbours,
  offerNeighbour as offer,
  type ProgressCallback,
} from "./_neighbour_lists.ts";

/** Reference points prepared for {@link queryNeighbours} (read only). */
export interface NeighbourIndex {
  /** The reference points as given (not copied): direct distances read them. */
  readonly points: RectMatrix;
  /** Points per block, B. */
  readonly blockSize: number;
  /** Reference index of each position of the locality order. */
  readonly perm: Int32Array;
  /** The centring (the reference mean) and the power-of-two scale. */
  readonly mean: Float64Array;
  readonly scale: number;
  /** Centred, scaled coordinates by position (n × d), their squared norms and norms. */
  readonly y: Float64Array;
  readonly norm2: Float64Array;
  readonly norm: Float64Array;
  /** Per block: centre (blocks × d), its norm, the radius about it, the largest point norm. */
  readonly centre: Float64Array;
  readonly centreNorm: Float64Array;
  readonly ball: Float64Array;
  readonly normMax: Float64Array;
  /** True when the spread is outside [2⁻⁵⁰⁰, 2⁵⁰⁰]: every query then uses direct distances. */
  readonly direct: boolean;
}

/** Options of {@link neighbourIndex}. */
export interface NeighbourIndexOptions {
  /** Points per block, B (default 256, as `exactNeighbours`). */
  readonly blockSize?: number;
  /**
   * The locality order, when known: `index.perm` of an earlier index of the same points (a
   * permutation of 0..n−1). Skips its computation, O(n d log(n/B)); any permutation gives the
   * same neighbours, only a compact one gives the speed.
   */
  readonly order?: Int32Array;
}

/** Options of {@link queryNeighbours}. */
export interface QueryNeighboursOptions {
  /** The matrix product of the screen (default the pure-TypeScript `jsGemm`). */
  readonly gemm?: NeighbourGemm;
  /** Progress callback (stage "query", in queries). */
  readonly onProgress?: ProgressCallback;
}

/** Queries farther than this from the reference mean, in units of the reference radius. */
const FAR = 2 ** 30;
/** Relative slack on square roots and radii (far above d·2⁻⁵³ for d < 2³⁰). */
const SHRINK = 1 - 2 ** -40, GROW = 1 + 2 ** -40;

/**
 * Prepares reference points for exact nearest-neighbour queries (module doc). O(n d log(n/B))
 * time, one n × d copy.
 *
 * @param points n × d reference coordinates, finite (kept by reference, not copied).
 * @param options Block size.
 * @returns The index.
 * @throws {TypeError | RangeError} If `points` is not a finite point set or `blockSize` is not an
 *   integer in [1, 16384].
 *
 * @example
 * ```ts
 * import { neighbourIndex, queryNeighbours } from "./neighbour_index.ts";
 * const index = neighbourIndex([[0], [1], [3], [7]]);
 * const nb = queryNeighbours(index, [[2.9], [-5]], 2);
 * if (nb.index.join() !== "2,1,0,1") throw new Error();
 * ```
 */
export function neighbourIndex(
  points: PointsLike,
  options: NeighbourIndexOptions = {},
): NeighbourIndex {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  const p = toRectMatrix(points, "points");
  const B = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  assertIntegerInRange("blockSize", B, 1, 1 << 14);
  const n = p.rows, d = p.cols, x = p.data;
  if (options.order !== undefined) assertPermutation("order", options.order, n);
  const { mean, y: scaled, scale, direct } = centreAndScale(x, n, d);
  const perm = options.order?.slice() ?? localityOrder(scaled, n, d, B);
  const y = new Float64Array(n * d), norm2 = new Float64Array(n), norm = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    const o = perm[q] * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = scaled[o + t];
      y[q * d + t] = v;
      s += v * v;
    }
    norm2[q] = s;
    norm[q] = Math.sqrt(s);
  }
  const blocks = Math.ceil(n / B);
  const centre = new Float64Array(blocks * d), centreNorm = new Float64Array(blocks);
  const ball = new Float64Array(blocks), normMax = new Float64Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const lo = b * B, hi = Math.min(n, lo + B);
    blockBall(y, d, lo, hi, norm, centre, b, centreNorm, ball, normMax);
  }
  return {
    points: p,
    blockSize: B,
    perm,
    mean,
    scale,
    y,
    norm2,
    norm,
    centre,
    centreNorm,
    ball,
    normMax,
    direct,
  };
}

/**
 * Checks that `order` is a permutation of 0..n−1.
 *
 * @param name Argument name used in the message.
 * @param order The value to check.
 * @param n Its length.
 * @throws {TypeError | RangeError} Naming the first repeated or out-of-range entry.
 *
 * @example
 * ```ts
 * import { assertPermutation } from "./neighbour_index.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => assertPermutation("order", new Int32Array([0, 0]), 2), /order\[1\] = 0/);
 * ```
 */
export function assertPermutation(name: string, order: unknown, n: number): void {
  if (!(order instanceof Int32Array)) {
    throw new TypeError(`Expected ${name} to be an Int32Array, got ${show(order)}`);
  }
  if (order.length !== n) {
    throw new RangeError(`Invalid ${name}: length ${order.length}, expected n = ${n}`);
  }
  const seen = new Uint8Array(n);
  for (let q = 0; q < n; q++) {
    const i = order[q];
    if (i < 0 || i >= n || seen[i] === 1) {
      throw new RangeError(
        `Invalid ${name}[${q}] = ${i}: a permutation of 0..${
          n - 1
        } is needed (out of range or repeated)`,
      );
    }
    seen[i] = 1;
  }
}

/** Centre, its norm, the radius about it and the largest norm of positions [lo, hi) of y. */
function blockBall(
  y: Float64Array,
  d: number,
  lo: number,
  hi: number,
  norm: Float64Array,
  centre: Float64Array,
  b: number,
  centreNorm: Float64Array,
  ball: Float64Array,
  normMax: Float64Array,
): void {
  const o = b * d;
  for (let t = 0; t < d; t++) centre[o + t] = 0;
  let largest = 0;
  for (let q = lo; q < hi; q++) {
    for (let t = 0; t < d; t++) centre[o + t] += y[q * d + t];
    if (norm[q] > largest) largest = norm[q];
  }
  let c2 = 0;
  for (let t = 0; t < d; t++) {
    centre[o + t] /= hi - lo;
    c2 += centre[o + t] * centre[o + t];
  }
  let r2 = 0;
  for (let q = lo; q < hi; q++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += (y[q * d + t] - centre[o + t]) ** 2;
    if (s > r2) r2 = s;
  }
  centreNorm[b] = Math.sqrt(c2);
  ball[b] = Math.sqrt(r2);
  normMax[b] = largest;
}

/** ‖a_i − b_j‖² summed coordinate by coordinate (the arithmetic of brute force). */
function distanceBetween(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number) {
  let s = 0;
  for (let t = 0; t < d; t++) {
    const v = a[ao + t] - b[bo + t];
    s += v * v;
  }
  return s;
}

/** A lower bound of the distance² from a point at distance² e of a ball's centre to the ball. */
function ballGap(e: number, radius: number, slack: number): number {
  const gap = Math.sqrt(e) * SHRINK - radius * GROW - slack;
  return gap > 0 ? gap * gap * SHRINK : 0;
}

/**
 * The k nearest reference points of every query: the k smallest ‖q_i − x_j‖² over all n
 * reference points, ties to the smaller index, nearest first — exactly what sorting all n
 * direct distances gives, whatever `gemm` is used (module doc). A query may coincide with a
 * reference point (distance 0 is a neighbour like any other).
 *
 * About 200 lines in one function: the blocked search at its end keeps some twenty bounds,
 * operands and norms in one scope for its tight loop (one estimate and one compare per pair),
 * as the screened search of `_gemm_screen.ts` does; the checks and the query scaling before it
 * are short.
 *
 * @param index Reference points from {@link neighbourIndex}.
 * @param queries q × d query coordinates, finite, d as the reference points.
 * @param k Neighbours per query, an integer in [1, n].
 * @param options The product (`gemm`) and a progress callback.
 * @returns q × k lists (`n` is the number of queries; indices refer to the reference points).
 * @throws {TypeError | RangeError} If `queries` is not a finite point set of the reference
 *   dimension, `k` is out of range or an option is invalid (the message names it).
 *
 * @example A query on a reference point, and one between two
 * ```ts
 * import { neighbourIndex, queryNeighbours } from "./neighbour_index.ts";
 * import assert from "node:assert/strict";
 * const nb = queryNeighbours(neighbourIndex([[0, 0], [2, 0]]), [[2, 0], [1, 0]], 1);
 * assert.deepEqual([...nb.index], [1, 0]); // the tie at distance 1 goes to the smaller index
 * assert.deepEqual([...nb.distance2], [0, 1]);
 * ```
 */
export function queryNeighbours(
  index: NeighbourIndex,
  queries: PointsLike,
  k: number,
  options: QueryNeighboursOptions = {},
): Neighbours {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected options to be an object, got ${show(options)}`);
  }
  if (typeof index !== "object" || index === null || !(index.perm instanceof Int32Array)) {
    throw new TypeError(
      `Expected index to be a NeighbourIndex from neighbourIndex, got ${show(index)}`,
    );
  }
  const ref = index.points, n = ref.rows, d = ref.cols;
  const qm = toRectMatrix(queries, "queries");
  if (qm.cols !== d) {
    throw new RangeError(
      `Invalid queries: they have ${qm.cols} coordinates but the reference points have ${d}`,
    );
  }
  assertIntegerInRange("k", k, 1, n, `for n = ${n} reference points`);
  const gemm = checkGemm(options.gemm ?? jsGemm);
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(`Expected onProgress to be a function, got ${show(onProgress)}`);
  }
  const nq = qm.rows, xq = qm.data, xr = ref.data;
  const outIndex = new Int32Array(nq * k).fill(-1);
  const outDistance = new Float64Array(nq * k).fill(Infinity);
  const bruteForce = (i: number) => {
    for (let j = 0; j < n; j++) {
      offer(outDistance, outIndex, i * k, k, distanceBetween(xq, i * d, xr, j * d, d), j);
    }
  };
  // Scaled queries; those too far for the product are searched directly.
  const { mean, scale } = index;
  const near: number[] = [];
  const yAll = new Float64Array(nq * d);
  for (let i = 0; i < nq; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = (xq[i * d + t] - mean[t]) * scale;
      yAll[i * d + t] = v;
      s += v * v;
    }
    if (!index.direct && Math.sqrt(s) <= FAR) near.push(i);
    else bruteForce(i);
  }
  const m = near.length;
  if (m === 0) {
    onProgress?.({ stage: "query", done: nq, total: nq });
    return { n: nq, k, index: outIndex, distance2: outDistance };
  }
  const B = index.blockSize;
  // Queries in blocks of 32 (d ≤ 4) or 64: a compact query block has fewer reference blocks
  // in reach. Measured with the pure-TypeScript product (shared 2-core machine): 10⁵ queries
  // among 10⁶ uniform 2-d points 2.4 s with blocks of 256, 1.5 s (64), 1.2 s (32 and 16);
  // 3·10⁴ among 3·10⁵ 32-d mixture points 24 s (256), 20 s (64 and 32), 23 s (128).
  const QB = Math.min(B, d <= 4 ? 32 : 64);
  const compact = new Float64Array(m * d);
  for (let a = 0; a < m; a++) compact.set(yAll.subarray(near[a] * d, near[a] * d + d), a * d);
  const order = localityOrder(compact, m, d, QB);
  const f32 = gemm.precision === "float32";
  const qOperand = f32 ? new Float32Array(m * d) : new Float64Array(m * d);
  const qy = new Float64Array(m * d), qNorm2 = new Float64Array(m), qNorm = new Float64Array(m);
  const qOrig = new Int32Array(m);
  for (let a = 0; a < m; a++) {
    const src = order[a] * d;
    qOrig[a] = near[order[a]];
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = compact[src + t];
      qy[a * d + t] = v;
      qOperand[a * d + t] = v;
      s += v * v;
    }
    qNorm2[a] = s;
    qNorm[a] = Math.sqrt(s);
  }
  const rOperand = f32 ? Float32Array.from(index.y) : index.y;
  const { perm, norm2, centre, ball, normMax } = index;
  const blocks = ball.length;
  // Error bounds of exact_neighbours.ts, each twice what the analysis gives.
  const ug = f32 ? U32 * 1.01 : U64 / (1 - d * U64), tiny = f32 ? TINY32 : TINY64;
  const kappa = 2 * ((d + 5) * U64 + (d + 2) * ug);
  const absolute = 16 * (d + 4) * tiny + 16 * Math.sqrt(d) * TINY64;
  const scale2 = scale * scale, grow = scale2 * (1 + 2 * (d + 4) * U64);
  const directSlack = 4 * (d + 2) * TINY64 * scale2;
  const tile = f32 ? new Float32Array(B * B) : new Float64Array(B * B);
  const multiply = (
    rows: number,
    cols: number,
    a: Float64Array | Float32Array,
    b: Float64Array | Float32Array,
    c: Float64Array | Float32Array,
  ) => {
    if (f32) {
      (gemm.multiply as GemmAbT<Float32Array>)(
        rows,
        cols,
        d,
        a as Float32Array,
        b as Float32Array,
        c as Float32Array,
      );
    } else {
      (gemm.multiply as GemmAbT<Float64Array>)(
        rows,
        cols,
        d,
        a as Float64Array,
        b as Float64Array,
        c as Float64Array,
      );
    }
  };
  // Lists by position of the query order, holding reference indices.
  const listIndex = new Int32Array(QB * k), listDistance = new Float64Array(QB * k);
  const tau = new Float64Array(QB), rowOn = new Uint8Array(QB);
  const qc = new Float64Array(d), qcNorm = new Float64Array(1), qBall = new Float64Array(1);
  const qMax = new Float64Array(1), lower = new Float64Array(blocks);
  const visit = new Int32Array(blocks);
  for (let lo = 0; lo < m; lo += QB) {
    const hi = Math.min(m, lo + QB), rows = hi - lo;
    blockBall(qy, d, lo, hi, qNorm, qc, 0, qcNorm, qBall, qMax);
    let nearest = 0;
    for (let b = 0; b < blocks; b++) {
      let e = 0;
      for (let t = 0; t < d; t++) e += (qc[t] - centre[b * d + t]) ** 2;
      lower[b] = ballGap(e, qBall[0] + ball[b], BALL_SLACK * (1 + qMax[0] + normMax[b]));
      if (lower[b] < lower[nearest]) nearest = b;
    }
    listIndex.fill(-1);
    listDistance.fill(Infinity);
    tau.fill(Infinity);
    let widest = Infinity, count = 1;
    visit[0] = nearest;
    for (let v = 0; v < count; v++) {
      const b = visit[v];
      if (lower[b] > widest) break; // every later block is as far or farther
      const c0 = b * B, c1 = Math.min(n, c0 + B), w = c1 - c0;
      let anyOn = false;
      for (let r = 0; r < rows; r++) {
        const a = lo + r;
        let on = tau[r] === Infinity;
        if (!on) {
          let e = 0;
          for (let t = 0; t < d; t++) e += (qy[a * d + t] - centre[b * d + t]) ** 2;
          on = ballGap(e, ball[b], BALL_SLACK * (1 + qNorm[a] + normMax[b])) <= tau[r];
        }
        rowOn[r] = on ? 1 : 0;
        anyOn ||= on;
      }
      if (!anyOn) continue;
      const g = tile.subarray(0, rows * w);
      multiply(
        rows,
        w,
        qOperand.subarray(lo * d, hi * d),
        rOperand.subarray(c0 * d, c1 * d),
        g,
      );
      for (let r = 0; r < rows; r++) {
        if (rowOn[r] === 0) continue;
        const a = lo + r, ni = qNorm2[a], ri = qNorm[a] + normMax[b];
        const slack = kappa * ri * ri + absolute, qo = qOrig[a] * d;
        let limit = tau[r] + slack;
        for (let c = 0; c < w; c++) {
          // The tight loop: one estimate and one compare per pair, almost always rejected.
          if (ni + norm2[c0 + c] - 2 * g[r * w + c] > limit) continue;
          const j = perm[c0 + c];
          const dist = distanceBetween(xq, qo, xr, j * d, d);
          if (offer(listDistance, listIndex, r * k, k, dist, j)) {
            const last = listDistance[r * k + k - 1];
            if (last < Infinity) {
              tau[r] = last * grow + directSlack;
              limit = tau[r] + slack;
            }
          }
        }
      }
      widest = 0;
      for (let r = 0; r < rows; r++) if (tau[r] > widest) widest = tau[r];
      if (v === 0) {
        // (The first block is always searched: every list is empty.) Only the blocks within
        // reach of its distances can hold neighbours: those few are sorted, nearest first.
        for (let c = 0; c < blocks; c++) {
          if (c !== nearest && lower[c] <= widest) visit[count++] = c;
        }
        visit.subarray(1, count).sort((a, c) => lower[a] - lower[c] || a - c);
      }
    }
    for (let r = 0; r < rows; r++) {
      const o = qOrig[lo + r] * k;
      outIndex.set(listIndex.subarray(r * k, r * k + k), o);
      outDistance.set(listDistance.subarray(r * k, r * k + k), o);
    }
    onProgress?.({ stage: "query", done: hi, total: m });
  }
  return { n: nq, k, index: outIndex, distance2: outDistance };
}
