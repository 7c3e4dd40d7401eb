/**
 * Exact k nearest neighbours of every point, by blocked matrix products (issue 14).
 *
 * ‖x_i − x_j‖² = ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j: for two blocks of B points, one matrix product
 * (B × d)·(d × B) gives every inner product between them, and a scan keeps, per point, the k
 * nearest seen so far. The product is a {@link NeighbourGemm}: injected (`options.gemm`, e.g.
 * OpenBLAS through `experiments/native_gemm.ts`) or the pure-TypeScript register-blocked
 * kernel {@link jsGemm} when none is given.
 *
 * 1. The points are centred, scaled by a power of two, and ordered so that each block of B
 *    consecutive points is compact (recursive halving along the principal axis, aligned to B).
 * 2. Each block with itself: every point starts with candidates from its own block.
 * 3. The pairs of blocks a < b, for each a the nearest centres first. Each product serves both
 *    blocks (rows and columns). A point is out of reach of a block when a lower bound of its
 *    distance to the block's ball (distance to the centre minus the radius) exceeds its current
 *    k-th distance; a product is computed only when some point of either block is in reach,
 *    and only those points are scanned. On clustered data most pairs of blocks are skipped; on
 *    data without structure every product is computed (the O(n² d) of brute force).
 *
 * **Exact, and equal to brute force, ties included.** The product-based distance D̂_ij cancels
 * (it is a difference of large terms), so it only screens: a candidate j of point i is
 * evaluated when D̂_ij ≤ the current k-th distance of i plus a rigorous bound on the rounding
 * error of D̂ (below); evaluated means ‖x_i − x_j‖² computed directly from the coordinates
 * ({@link squaredDistance}, the same arithmetic as brute force) and offered to i's list, ordered
 * by (distance, index). A true neighbour always passes the screen (and the skipping bounds carry
 * the same slack), so the lists are exactly the k smallest (direct distance, index) pairs: what
 * sorting all n − 1 direct distances per point gives. The reported distances are the direct ones
 * (no cancellation). Ties go to the smaller index.
 *
 * The error bound. After centring and scaling the largest norm lies in (½, 1] — the distances
 * are unchanged up to that exact scale, and cancellation is limited to the spread of the data,
 * not its offset. With unit roundoff u (2⁻⁵³) and that of the product u_g (u, or 2⁻²⁴ for a
 * float32 product, whose operands are rounded to float32 first), D̂ = ‖y_i‖² + ‖y_j‖² − 2 y_i·y_j
 * has error at most ((d + 5)u + (d + 2)u_g)(ρ_i + ρ_j)² (ρ the norms; Higham, Accuracy and
 * Stability of Numerical Algorithms, §3.1: any summation order, fused multiply–add or not), plus
 * subnormal terms; the screen uses twice that, with ρ_j replaced by the largest norm of the
 * block. A direct distance has relative error at most (d + 2)u, allowed for the same way. The
 * bound needs the product to be a conventional sum of d products per entry (any BLAS GEMM; not a
 * Strassen-type algorithm). If the norms are outside [2⁻⁵⁰⁰, 2⁵⁰⁰] the pairwise kernel runs
 * instead (the same answer).
 *
 * Cost: at most n²d flops in the products (half of n² d multiply–adds) and two compares per
 * pair in the scan, plus d flops per evaluated candidate (≈ k ln(n/k) per point, more where many
 * points sit within the error bound of each other: the answer is still exact, only slower).
 * Memory: three n × d copies of the points (centred and scaled; the same reordered, as the
 * product's operand, float32 for a float32 product; the original coordinates reordered, for the
 * direct distances), the B × B product tile, B × ⌈n/B⌉ + 16 n distances to block centres, and
 * the n × k lists (twice, by position and by index): O(n d + B² + n k), never n × n.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type PointsLike, toRectMatrix } from "../core/rect_matrix.ts";

/** Directed k-nearest-neighbour lists: row i holds i's neighbours, nearest first. */
export interface Neighbours {
  /** Number of points. */
  readonly n: number;
  /** Neighbours per point. */
  readonly k: number;
  /** n × k neighbour indices, row-major (−1 where fewer than k exist). */
  readonly index: Int32Array;
  /** n × k squared distances, row-major, non-decreasing along a row. */
  readonly distance2: Float64Array;
}

/** Progress of long work: a stage name and how much of it is done. */
export interface Progress {
  /** What is running, e.g. "delaunay", "knn", "nn-descent", "forest". */
  readonly stage: string;
  /** Units done so far. */
  readonly done: number;
  /** Units in all. */
  readonly total: number;
}

/** Called on progress; must return quickly. */
export type ProgressCallback = (p: Progress) => void;

/**
 * A matrix product C ← A·Bᵀ, row-major and densely packed: A is m × d, B is n × d, C is m × n,
 * so C[i·n + j] = Σ_t A[i·d + t]·B[j·d + t]. The arrays may be views (`subarray`) of larger
 * buffers; C is overwritten (never read). Each entry must be a conventional sum of the d
 * products in the array type's precision (any order, fused multiply–add allowed: what BLAS
 * `gemm` does; not a Strassen-type algorithm), which is what makes the screen of
 * {@link exactNeighbours} rigorous.
 */
export type GemmAbT<T extends Float32Array | Float64Array> = (
  m: number,
  n: number,
  d: number,
  a: T,
  b: T,
  c: T,
) => void;

/**
 * A matrix product for {@link exactNeighbours}, with the precision of its operands: float64
 * (e.g. BLAS `dgemm`) or float32 (e.g. `sgemm`; the points are rounded to float32 for it, and
 * the screen's error bound widens accordingly: the neighbours are still exact).
 */
export type NeighbourGemm =
  | {
    /** Operands and result are Float64Array. */
    readonly precision: "float64";
    /** The product. */
    readonly multiply: GemmAbT<Float64Array>;
  }
  | {
    /** Operands and result are Float32Array. */
    readonly precision: "float32";
    /** The product. */
    readonly multiply: GemmAbT<Float32Array>;
  };

/** Options of {@link exactNeighbours}. */
export interface ExactNeighboursOptions {
  /**
   * The matrix product of the blocked search (default {@link jsGemm}, pure TypeScript). A native
   * BLAS is the point of the option: `experiments/native_gemm.ts` wraps OpenBLAS through Deno FFI.
   */
  readonly gemm?: NeighbourGemm;
  /** Points per block, B (default 256): each product is at most B × B, B × (n / B) or n × 1. */
  readonly blockSize?: number;
  /** Progress callback (stage "knn", in points). */
  readonly onProgress?: ProgressCallback;
}

/**
 * ‖x_i − x_j‖² for rows i, j of a row-major n × d array (shared with `nn_descent.ts`). Symmetric
 * bit for bit (x_i − x_j and x_j − x_i have the same square).
 *
 * @param x The points, row-major.
 * @param d Their dimension.
 * @param i One row.
 * @param j Another row.
 * @returns The squared Euclidean distance.
 */
export function squaredDistance(x: Float64Array, d: number, i: number, j: number): number {
  let s = 0;
  const a = i * d, b = j * d;
  for (let t = 0; t < d; t++) {
    const v = x[a + t] - x[b + t];
    s += v * v;
  }
  return s;
}

/**
 * C ← A·Bᵀ in float64, pure TypeScript (the default product of {@link exactNeighbours}):
 * 2 × 4 register blocks, B's rows in the outer loop so that four of them stay in L1 while A's
 * block streams from L2. See {@link GemmAbT} for the layout.
 *
 * @param m Rows of A and C.
 * @param n Rows of B, columns of C.
 * @param d Columns of A and B.
 * @param a m × d, row-major.
 * @param b n × d, row-major.
 * @param c m × n, row-major (overwritten).
 *
 * @example
 * ```ts
 * import { multiplyAbT } from "./exact_neighbours.ts";
 * const c = new Float64Array(2);
 * multiplyAbT(1, 2, 2, Float64Array.of(1, 2), Float64Array.of(3, 4, 5, 6), c);
 * if (c.join() !== "11,17") throw new Error();
 * ```
 */
export function multiplyAbT(
  m: number,
  n: number,
  d: number,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array,
): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = j * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = i * d, a1 = a0 + d;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = a[a0 + t], x1 = a[a1 + t];
        const y0 = b[b0 + t], y1 = b[b1 + t], y2 = b[b2 + t], y3 = b[b3 + t];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c0 = i * n + j, c1 = c0 + n;
      c[c0] = s00;
      c[c0 + 1] = s01;
      c[c0 + 2] = s02;
      c[c0 + 3] = s03;
      c[c1] = s10;
      c[c1 + 1] = s11;
      c[c1 + 2] = s12;
      c[c1 + 3] = s13;
    }
    for (; i < m; i++) {
      const a0 = i * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = a[a0 + t];
        s0 += x0 * b[b0 + t];
        s1 += x0 * b[b1 + t];
        s2 += x0 * b[b2 + t];
        s3 += x0 * b[b3 + t];
      }
      const c0 = i * n + j;
      c[c0] = s0;
      c[c0 + 1] = s1;
      c[c0 + 2] = s2;
      c[c0 + 3] = s3;
    }
  }
  for (; j < n; j++) {
    const b0 = j * d;
    for (let i = 0; i < m; i++) {
      const a0 = i * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += a[a0 + t] * b[b0 + t];
      c[i * n + j] = s;
    }
  }
}

/** The pure-TypeScript product ({@link multiplyAbT}): the default of {@link exactNeighbours}. */
export const jsGemm: NeighbourGemm = Object.freeze({
  precision: "float64",
  multiply: multiplyAbT,
});

/**
 * Keeps the k smallest (distance, index) pairs of a row, sorted ascending by distance then
 * index, whatever order the candidates come in. Returns whether the row changed. (Internal,
 * shared with `neighbour_index.ts`.)
 */
export function offer(
  dist: Float64Array,
  idx: Int32Array,
  row: number,
  k: number,
  s: number,
  j: number,
): boolean {
  const last = row + k - 1;
  if (!(s < dist[last] || (s === dist[last] && j < idx[last]))) return false;
  let p = last;
  while (p > row && (dist[p - 1] > s || (dist[p - 1] === s && idx[p - 1] > j))) {
    dist[p] = dist[p - 1];
    idx[p] = idx[p - 1];
    p--;
  }
  dist[p] = s;
  idx[p] = j;
  return true;
}

/** Default points per block: the unit of the locality order, of the products and of skipping. */
export const DEFAULT_BLOCK_SIZE = 256;

/** Rows per block of the pairwise kernel. */
const PAIR_BLOCK = 64;

/** The pairwise kernel: every distance computed directly, once for both rows. */
function pairwiseNeighbours(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  index: Int32Array,
  distance2: Float64Array,
  onProgress?: ProgressCallback,
): void {
  for (let lo = 0; lo < n; lo += PAIR_BLOCK) {
    const hi = Math.min(n, lo + PAIR_BLOCK);
    // The pairs i < j with i in this block (j in this block or a later one).
    for (let j = lo + 1; j < n; j++) {
      const top = Math.min(hi, j);
      for (let i = lo; i < top; i++) {
        const s = squaredDistance(x, d, i, j);
        offer(distance2, index, i * k, k, s, j);
        offer(distance2, index, j * k, k, s, i);
      }
    }
    onProgress?.({ stage: "knn", done: hi, total: n });
  }
}

/** Unit roundoffs and smallest subnormals of float64 and float32 (internal, shared). */
export const U64 = 2 ** -53, U32 = 2 ** -24, TINY64 = 2 ** -1074, TINY32 = 2 ** -149;
/**
 * Absolute slack of the ball bounds, in scaled units (every norm ≤ 1 there): far above the
 * rounding of O(d) operations on numbers of size ≤ 2 (≈ 8d·2⁻⁵³ for any d < 2²⁰).
 */
export const BALL_SLACK = 2 ** -30;

/**
 * Checks that `gemm` is a {@link NeighbourGemm} (its shape; the product itself is trusted).
 *
 * @param gemm The value to check.
 * @returns It, typed.
 * @throws {TypeError} Naming `gemm`, if it is not `{ precision, multiply }`.
 */
export function checkGemm(gemm: unknown): NeighbourGemm {
  const g = gemm as NeighbourGemm;
  if (
    typeof gemm !== "object" || gemm === null || typeof g.multiply !== "function" ||
    (g.precision !== "float64" && g.precision !== "float32")
  ) {
    throw new TypeError(
      `Expected gemm to be { precision: "float64" | "float32", multiply(m, n, d, a, b, c) }, got ${
        show(gemm)
      }`,
    );
  }
  return g;
}

/**
 * Reorders the points so that each block of B consecutive ones is compact: recursive halving of
 * [lo, hi) at a multiple of B from lo, along the segment's principal axis (a few power
 * iterations from the direction of its farthest point), so that every block is a leaf. Pure
 * and deterministic; O(n d log(n / B)). (Internal, shared with `neighbour_index.ts`.)
 */
export function localityOrder(y: Float64Array, n: number, d: number, B: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const proj = new Float64Array(n), mu = new Float64Array(d), v = new Float64Array(d);
  const w = new Float64Array(d);
  const stack = [0, n];
  while (stack.length > 0) {
    const hi = stack.pop()!, lo = stack.pop()!;
    if (hi - lo <= B) continue;
    const mid = lo + B * Math.max(1, Math.round((hi - lo) / (2 * B)));
    mu.fill(0);
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      for (let t = 0; t < d; t++) mu[t] += y[o + t];
    }
    for (let t = 0; t < d; t++) mu[t] /= hi - lo;
    let far = lo, farD = -1;
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += (y[o + t] - mu[t]) ** 2;
      if (s > farD) {
        farD = s;
        far = p;
      }
    }
    for (let t = 0; t < d; t++) v[t] = y[perm[far] * d + t] - mu[t];
    for (let it = 0; it < 4; it++) {
      w.fill(0);
      for (let p = lo; p < hi; p++) {
        const o = perm[p] * d;
        let s = 0;
        for (let t = 0; t < d; t++) s += (y[o + t] - mu[t]) * v[t];
        for (let t = 0; t < d; t++) w[t] += s * (y[o + t] - mu[t]);
      }
      let norm = 0;
      for (let t = 0; t < d; t++) norm += w[t] * w[t];
      if (!(norm > 0)) break;
      norm = Math.sqrt(norm);
      for (let t = 0; t < d; t++) v[t] = w[t] / norm;
    }
    for (let p = lo; p < hi; p++) {
      const o = perm[p] * d;
      let s = 0;
      for (let t = 0; t < d; t++) s += y[o + t] * v[t];
      proj[p] = s;
    }
    select(proj, perm, lo, hi, mid);
    stack.push(lo, mid, mid, hi);
  }
  return perm;
}

/** Quickselect: reorders proj/perm[lo, hi) so that positions < mid hold the smallest. */
function select(proj: Float64Array, perm: Int32Array, lo: number, hi: number, mid: number): void {
  let a = lo, b = hi - 1;
  while (a < b) {
    const pivot = proj[(a + b) >>> 1];
    let i = a, j = b;
    while (i <= j) {
      while (proj[i] < pivot) i++;
      while (proj[j] > pivot) j--;
      if (i <= j) {
        const tp = proj[i], ti = perm[i];
        proj[i] = proj[j];
        perm[i] = perm[j];
        proj[j] = tp;
        perm[j] = ti;
        i++;
        j--;
      }
    }
    if (mid <= j) b = j;
    else if (mid >= i) a = i;
    else return;
  }
}

/** What the scan of a product tile reads and updates (see {@link exactNeighbours}). */
interface ScanState {
  /**
   * The original coordinates in the locality order (row q is point perm[q]; direct distances
   * read nearby rows), their dimension, neighbours per point.
   */
  readonly x: Float64Array;
  readonly d: number;
  readonly k: number;
  /** The lists, by position, holding original indices. */
  readonly index: Int32Array;
  readonly distance2: Float64Array;
  /** Original index of each position of the locality order. */
  readonly perm: Int32Array;
  /** Squared norms and norms of the centred, scaled points, by position. */
  readonly norm2: Float64Array;
  readonly norm: Float64Array;
  /** By position: the k-th direct distance, scaled, with the direct rounding slack. */
  readonly tau: Float64Array;
  /** Per column of the tile: its screening limit (−∞ where the column is out of reach). */
  readonly colLimit: Float64Array;
  /** Error bound of an estimate: kappa·(ρ_i + ρ_j)² + absolute. */
  readonly kappa: number;
  readonly absolute: number;
  /** tau = distance·grow + directSlack. */
  readonly grow: number;
  readonly directSlack: number;
}

/**
 * Scans one B × B product tile (positions lo.. by c0..; on the diagonal only pairs i < j):
 * every pair whose estimate is within the limit of a point still in reach is evaluated directly
 * and offered to both points. `rowOn[r]`: row r may gain from this tile; `cols` lists the
 * `colCount` columns that may (the others' limits are −∞).
 */
function scanTile(
  s: ScanState,
  g: Float64Array | Float32Array,
  m: number,
  w: number,
  lo: number,
  c0: number,
  rowRadius: number,
  colRadius: number,
  rowOn: Uint8Array,
  colOn: Uint8Array,
  cols: Int32Array,
  colCount: number,
): void {
  const { norm, norm2, tau, colLimit, kappa, absolute } = s;
  for (let c = 0; c < w; c++) {
    const r = norm[c0 + c] + rowRadius;
    colLimit[c] = colOn[c] === 1 ? tau[c0 + c] + kappa * r * r + absolute : -Infinity;
  }
  for (let r = 0; r < m; r++) {
    const i = lo + r, ni = norm2[i], base = r * w, from = i >= c0 ? i - c0 + 1 : 0;
    if (rowOn[r] === 1) {
      const ri = norm[i] + colRadius, rowSlack = kappa * ri * ri + absolute;
      let rowLimit = tau[i] + rowSlack;
      let c = from;
      for (;;) {
        // The tight loop: one estimate and two compares per pair, almost always rejected.
        for (; c < w; c++) {
          const est = ni + norm2[c0 + c] - 2 * g[base + c];
          if (est <= rowLimit || est <= colLimit[c]) break;
        }
        if (c >= w) break;
        rowLimit = evaluatePair(s, i, c0 + c, c, rowRadius) + rowSlack;
        c++;
      }
    } else {
      for (let t = 0; t < colCount; t++) {
        const c = cols[t];
        if (c < from) continue;
        if (ni + norm2[c0 + c] - 2 * g[base + c] <= colLimit[c]) {
          evaluatePair(s, i, c0 + c, c, rowRadius);
        }
      }
    }
  }
}

/**
 * Evaluates the pair of positions (i, j) directly and offers it to both lists, updating their
 * limits (j's column limit when it is in reach). Returns i's tau.
 */
function evaluatePair(s: ScanState, i: number, j: number, c: number, rowRadius: number): number {
  const { x, d, k, index, distance2, tau, perm } = s;
  const dist = squaredDistance(x, d, i, j);
  if (offer(distance2, index, i * k, k, dist, perm[j])) {
    tau[i] = distance2[i * k + k - 1] * s.grow + s.directSlack;
  }
  if (offer(distance2, index, j * k, k, dist, perm[i])) {
    tau[j] = distance2[j * k + k - 1] * s.grow + s.directSlack;
    if (s.colLimit[c] > -Infinity) {
      const rj = s.norm[j] + rowRadius;
      s.colLimit[c] = tau[j] + s.kappa * rj * rj + s.absolute;
    }
  }
  return tau[i];
}

/**
 * Exact k nearest neighbours of every point (excluding itself): the k smallest
 * ‖x_i − x_j‖², ties to the smaller index, nearest first. Blocked matrix products screen the
 * candidates and the direct distance decides (module doc), so the lists equal those of sorting
 * all n − 1 direct distances of every point, ties included, whatever `gemm` is used (as long as
 * it honours {@link GemmAbT}). O(n² d) time at worst, less where blocks are out of reach;
 * memory O(n d + B² + n k), never n × n.
 *
 * @param points n × d coordinates.
 * @param k Neighbours per point, an integer in [1, n − 1] (k = 1 for a single point, whose list
 *   is then index −1, distance ∞).
 * @param options The product (`gemm`), block size and a progress callback; a bare function is
 *   taken as the progress callback (the former signature).
 * @returns The neighbour lists.
 * @throws {TypeError | RangeError} If `points` is not a finite point set, `k` is out of range or
 *   an option is invalid (the message names it).
 *
 * @example
 * ```ts
 * import { exactNeighbours } from "./exact_neighbours.ts";
 * const nb = exactNeighbours([[0], [1], [3], [7]], 1);
 * if (nb.index.join() !== "1,0,1,2") throw new Error();
 * ```
 */
export function exactNeighbours(
  points: PointsLike,
  k: number,
  options: ExactNeighboursOptions | ProgressCallback = {},
): Neighbours {
  const opts: ExactNeighboursOptions = typeof options === "function"
    ? { onProgress: options }
    : options;
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(
      `Expected options to be an object or a progress callback, got ${show(options)}`,
    );
  }
  const p = toRectMatrix(points, "points");
  const n = p.rows, d = p.cols, x = p.data;
  assertIntegerInRange("k", k, 1, Math.max(1, n - 1), `for n = ${n} points`);
  const gemm = checkGemm(opts.gemm ?? jsGemm);
  const B = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  assertIntegerInRange("blockSize", B, 1, 1 << 14);
  const onProgress = opts.onProgress;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new TypeError(`Expected onProgress to be a function, got ${show(onProgress)}`);
  }
  const index = new Int32Array(n * k).fill(-1), distance2 = new Float64Array(n * k).fill(Infinity);
  if (n === 1) return { n, k, index, distance2 };

  // Centre and scale by a power of two (exact) so that the largest norm is in (1/2, 1].
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += x[i * d + t];
  for (let t = 0; t < d; t++) mean[t] /= n;
  let big = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += (x[i * d + t] - mean[t]) ** 2;
    if (s > big) big = s;
  }
  const radius = Math.sqrt(big);
  if (!(radius === 0 || (radius >= 2 ** -500 && radius <= 2 ** 500))) {
    pairwiseNeighbours(x, n, d, k, index, distance2, onProgress);
    return { n, k, index, distance2 };
  }
  const scale = radius > 0 ? 2 ** -Math.ceil(Math.log2(radius)) : 1, scale2 = scale * scale;
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) y[i * d + t] = (x[i * d + t] - mean[t]) * scale;
  }
  // Positions in the locality order: block b is positions [bB, (b + 1)B).
  const perm = localityOrder(y, n, d, B);
  const f32 = gemm.precision === "float32";
  const operand = f32 ? new Float32Array(n * d) : new Float64Array(n * d);
  const norm2 = new Float64Array(n), norm = new Float64Array(n), xp = new Float64Array(n * d);
  for (let q = 0; q < n; q++) {
    const o = perm[q] * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const v = y[o + t];
      operand[q * d + t] = v;
      xp[q * d + t] = x[o + t];
      s += v * v;
    }
    norm2[q] = s;
    norm[q] = Math.sqrt(s);
  }
  // Blocks: centre (in the product's precision), radius about it, largest norm.
  const blocks = Math.ceil(n / B);
  const centre = f32 ? new Float32Array(blocks * d) : new Float64Array(blocks * d);
  const centre2 = new Float64Array(blocks), centreNorm = new Float64Array(blocks);
  const ball = new Float64Array(blocks), normMax = new Float64Array(blocks);
  const sum = new Float64Array(d);
  for (let b = 0; b < blocks; b++) {
    const lo = b * B, hi = Math.min(n, lo + B), o = b * d;
    sum.fill(0);
    for (let q = lo; q < hi; q++) {
      for (let t = 0; t < d; t++) sum[t] += y[perm[q] * d + t];
      if (norm[q] > normMax[b]) normMax[b] = norm[q];
    }
    let c2 = 0;
    for (let t = 0; t < d; t++) {
      centre[o + t] = sum[t] / (hi - lo);
      c2 += centre[o + t] * centre[o + t];
    }
    centre2[b] = c2;
    centreNorm[b] = Math.sqrt(c2);
    let r2 = 0;
    for (let q = lo; q < hi; q++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (y[perm[q] * d + t] - centre[o + t]) ** 2;
      if (s > r2) r2 = s;
    }
    ball[b] = Math.sqrt(r2);
  }
  // Error bounds (module doc), each twice what the analysis gives.
  const ug = f32 ? U32 * 1.01 : U64 / (1 - d * U64), tiny = f32 ? TINY32 : TINY64;
  const kappa = 2 * ((d + 5) * U64 + (d + 2) * ug);
  const absolute = 16 * (d + 4) * tiny + 16 * Math.sqrt(d) * TINY64;
  // The lists by position; put back in the original order at the end.
  const byPosition = new Int32Array(n * k).fill(-1);
  const distanceByPosition = new Float64Array(n * k).fill(Infinity);
  const s: ScanState = {
    x: xp,
    d,
    k,
    index: byPosition,
    distance2: distanceByPosition,
    perm,
    norm2,
    norm,
    tau: new Float64Array(n).fill(Infinity),
    colLimit: new Float64Array(B),
    kappa,
    absolute,
    grow: scale2 * (1 + 2 * (d + 4) * U64),
    directSlack: 4 * (d + 2) * TINY64 * scale2,
  };
  const tau = s.tau;
  const multiply = (
    m: number,
    w: number,
    a: Float64Array | Float32Array,
    b: Float64Array | Float32Array,
    c: Float64Array | Float32Array,
  ) => {
    if (f32) {
      (gemm.multiply as GemmAbT<Float32Array>)(
        m,
        w,
        d,
        a as Float32Array,
        b as Float32Array,
        c as Float32Array,
      );
    } else {
      (gemm.multiply as GemmAbT<Float64Array>)(
        m,
        w,
        d,
        a as Float64Array,
        b as Float64Array,
        c as Float64Array,
      );
    }
  };
  const newBuffer = (size: number) => f32 ? new Float32Array(size) : new Float64Array(size);
  const tile = newBuffer(B * B);
  const rows = (lo: number, hi: number) => operand.subarray(lo * d, hi * d);
  const product = (lo: number, hi: number, c0: number, c1: number) => {
    const g = tile.subarray(0, (hi - lo) * (c1 - c0));
    multiply(hi - lo, c1 - c0, rows(lo, hi), rows(c0, c1), g);
    return g;
  };
  // A lower bound of the scaled squared distance from a point (norm r) to any
  // point of block b, from the estimate e of its squared distance to b's centre.
  const reach = (e: number, r: number, b: number) => {
    const rc = r + centreNorm[b];
    const low = e - kappa * rc * rc - absolute;
    if (!(low > 0)) return 0;
    const gap = Math.sqrt(low) * (1 - 2 ** -40) - ball[b] - BALL_SLACK;
    return gap > 0 ? gap * gap * (1 - 2 ** -40) : 0;
  };
  const allOn = new Uint8Array(B).fill(1), colList = new Int32Array(B);
  const rowOn = new Uint8Array(B), colOn = new Uint8Array(B);
  // 1. Each block with itself: every point gets candidates from its own compact block.
  for (let b = 0; b < blocks; b++) {
    const lo = b * B, hi = Math.min(n, lo + B), m = hi - lo;
    const g = product(lo, hi, lo, hi);
    scanTile(s, g, m, m, lo, lo, normMax[b], normMax[b], allOn, allOn, colList, 0);
  }
  onProgress?.({ stage: "knn", done: 0, total: n });
  // 2. The pairs of blocks a < b, nearest centres first. A row (column) is in reach when the
  // lower bound of its distance to the other block is within its current k-th distance; a
  // product is computed only when some row or column is.
  // Column bounds come from a strip of S centres against every later point, one product per S
  // blocks: O(n S) memory, and a real matrix product rather than S matrix–vector ones.
  const S = Math.min(16, blocks), strip = newBuffer(n * S);
  let stripStart = -S, stripWidth = 0, stripBase = 0;
  const toCentres = newBuffer(B * blocks);
  const order = new Int32Array(blocks), gapOf = new Float64Array(blocks);
  for (let a = 0; a < blocks - 1; a++) {
    const lo = a * B, hi = Math.min(n, lo + B), m = hi - lo;
    // Rows of a against every later centre; every later point against a's centre.
    multiply(m, blocks, rows(lo, hi), centre, toCentres);
    if (a >= stripStart + S) {
      stripStart = a;
      stripWidth = Math.min(S, blocks - 1 - a);
      stripBase = hi;
      multiply(
        n - hi,
        stripWidth,
        rows(hi, n),
        centre.subarray(a * d, (a + stripWidth) * d),
        strip,
      );
    }
    let count = 0;
    for (let b = a + 1; b < blocks; b++) {
      let c2 = 0;
      for (let t = 0; t < d; t++) c2 += (centre[a * d + t] - centre[b * d + t]) ** 2;
      gapOf[b] = c2;
      order[count++] = b;
    }
    const pending = order.subarray(0, count).sort((u, v) => gapOf[u] - gapOf[v]);
    for (const b of pending) {
      const c0 = b * B, c1 = Math.min(n, c0 + B), w = c1 - c0;
      let rowsIn = 0, colCount = 0, colRadius = 0;
      for (let r = 0; r < m; r++) {
        const i = lo + r;
        const e = norm2[i] + centre2[b] - 2 * toCentres[r * blocks + b];
        rowOn[r] = reach(e, norm[i], b) <= tau[i] ? 1 : 0;
        rowsIn += rowOn[r];
      }
      for (let c = 0; c < w; c++) {
        const j = c0 + c;
        const e = norm2[j] + centre2[a] - 2 * strip[(j - stripBase) * stripWidth + a - stripStart];
        colOn[c] = reach(e, norm[j], a) <= tau[j] ? 1 : 0;
        if (colOn[c] === 1) {
          colList[colCount++] = c;
          if (norm[j] > colRadius) colRadius = norm[j];
        }
      }
      if (rowsIn === 0 && colCount === 0) continue;
      if (rowsIn > 0) colRadius = normMax[b];
      const g = product(lo, hi, c0, c1);
      scanTile(s, g, m, w, lo, c0, normMax[a], colRadius, rowOn, colOn, colList, colCount);
    }
    onProgress?.({ stage: "knn", done: hi, total: n });
  }
  for (let q = 0; q < n; q++) {
    index.set(byPosition.subarray(q * k, q * k + k), perm[q] * k);
    distance2.set(distanceByPosition.subarray(q * k, q * k + k), perm[q] * k);
  }
  onProgress?.({ stage: "knn", done: n, total: n });
  return { n, k, index, distance2 };
}

/**
 * The pairwise kernel alone (every distance computed directly, once for both points): the
 * former implementation of {@link exactNeighbours}, kept as a second, independent
 * implementation for tests and measurements. Same result.
 *
 * @param points n × d coordinates.
 * @param k Neighbours per point, an integer in [1, n − 1].
 * @returns The neighbour lists.
 * @throws {TypeError | RangeError} As {@link exactNeighbours}.
 */
export function pairwiseExactNeighbours(points: PointsLike, k: number): Neighbours {
  const p = toRectMatrix(points, "points");
  const n = p.rows;
  assertIntegerInRange("k", k, 1, Math.max(1, n - 1), `for n = ${n} points`);
  const index = new Int32Array(n * k).fill(-1), distance2 = new Float64Array(n * k).fill(Infinity);
  pairwiseNeighbours(p.data, n, p.cols, k, index, distance2);
  return { n, k, index, distance2 };
}
export const SCAN = { t: 0, e: 0 };
