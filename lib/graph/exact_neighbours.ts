/**
 * Exact k nearest neighbours of every point, by blocked matrix products.
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
 * Where each part lives: the product in `_neighbour_gemm.ts`; the locality order in
 * `_locality_order.ts`; the screen (steps 1–3, the error bound, the skipping) in `_gemm_screen.ts`;
 * the lists, the direct distance and the pairwise kernel in `_neighbour_lists.ts`.
 *
 * @module
 */
import { assertIntegerInRange, show } from "../core/errors.ts";
import { type PointsLike, toRectMatrix } from "../core/rect_matrix.ts";
import { checkGemm, jsGemm, type NeighbourGemm } from "./_neighbour_gemm.ts";
import { centreAndScale, screenedNeighbours } from "./_gemm_screen.ts";
import { type Neighbours, pairwiseNeighbours, type ProgressCallback } from "./_neighbour_lists.ts";

export {
  checkGemm,
  type GemmAbT,
  jsGemm,
  multiplyAbT,
  type NeighbourGemm,
} from "./_neighbour_gemm.ts";
export {
  type Neighbours,
  type Progress,
  type ProgressCallback,
  squaredDistance,
} from "./_neighbour_lists.ts";

/**
 * Options of {@link exactNeighbours}.
 *
 * @category Graphs of points
 */
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

/** Default points per block: the unit of the locality order, of the products and of skipping. */
export const DEFAULT_BLOCK_SIZE = 256;

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
 *
 * @category Graphs of points
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
  const { y, scale, direct } = centreAndScale(x, n, d);
  if (direct) {
    pairwiseNeighbours(x, n, d, k, index, distance2, onProgress);
    return { n, k, index, distance2 };
  }
  const scale2 = scale * scale;
  screenedNeighbours(x, y, n, d, k, scale2, gemm, B, index, distance2, onProgress);
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
