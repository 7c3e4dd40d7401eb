/**
 * Internal (re-exported by `exact_neighbours.ts`): k-nearest-neighbour lists and the direct
 * distance that decides them, the rigorous half of the exact search. However the products of
 * `_gemm_screen.ts` screen the candidates, one enters a list only through
 * {@link squaredDistance}, computed from the coordinates, and {@link offerNeighbour}, which keeps
 * the k smallest (distance, index) pairs: the same arithmetic and order as brute force, which is
 * what makes the exact search equal to sorting all n − 1 distances per point, ties included.
 * {@link pairwiseNeighbours} is brute force itself: every pair, once for both points.
 * (`nn_descent.ts` shares the distance, not the lists.)
 *
 * @module
 */

/**
 * Directed k-nearest-neighbour lists: row i holds i's neighbours, nearest first.
 *
 * @category Graphs of points
 */
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

/**
 * Progress of long work: a stage name and how much of it is done.
 *
 * @category Graphs of points
 */
export interface Progress {
  /** What is running, e.g. "delaunay", "knn", "nn-descent", "forest". */
  readonly stage: string;
  /** Units done so far. */
  readonly done: number;
  /** Units in all. */
  readonly total: number;
}

/**
 * Called on progress; must return quickly.
 *
 * @category Graphs of points
 */
export type ProgressCallback = (p: Progress) => void;

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
 * Keeps the k smallest (distance, index) pairs of a row, sorted ascending by distance then
 * index, whatever order the candidates come in.
 *
 * @param dist Squared distances of the lists, row-major (mutated).
 * @param idx Indices of the lists, row-major (mutated).
 * @param row Offset of the row's first entry.
 * @param k Entries per row.
 * @param s The candidate's squared distance.
 * @param j The candidate's index.
 * @returns Whether the row changed.
 */
export function offerNeighbour(
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

/** Rows per block of the pairwise kernel. */
const PAIR_BLOCK = 64;

/** The pairwise kernel: every distance computed directly, once for both rows. */
export function pairwiseNeighbours(
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
        offerNeighbour(distance2, index, i * k, k, s, j);
        offerNeighbour(distance2, index, j * k, k, s, i);
      }
    }
    onProgress?.({ stage: "knn", done: hi, total: n });
  }
}
