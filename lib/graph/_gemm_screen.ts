/**
 * Internal: the screened blocked search behind {@link exactNeighbours} (steps 1–3 of its module
 * doc). The points, centred and scaled, are put in the locality order (`_locality_order.ts`);
 * blocks of B consecutive positions are multiplied by the injected product
 * (`_neighbour_gemm.ts`) and every estimate D̂_ij = ‖y_i‖² + ‖y_j‖² − 2 y_i·y_j within a point's
 * k-th distance plus the rounding bound of the module doc is evaluated directly and offered to
 * both lists (`_neighbour_lists.ts`); pairs of blocks whose balls are out of reach are skipped.
 *
 * @module
 */
import type { GemmAbT, NeighbourGemm } from "./_neighbour_gemm.ts";
import { localityOrder } from "./_locality_order.ts";
import { offerNeighbour, type ProgressCallback, squaredDistance } from "./_neighbour_lists.ts";

/** Unit roundoffs of float64 and float32, and their smallest subnormals (the screen's bound). */
export const U64 = 2 ** -53, U32 = 2 ** -24, TINY64 = 2 ** -1074, TINY32 = 2 ** -149;
/**
 * Absolute slack of the ball bounds, in scaled units (every norm ≤ 1 there): far above the
 * rounding of O(d) operations on numbers of size ≤ 2 (≈ 8d·2⁻⁵³ for any d < 2²⁰).
 */
export const BALL_SLACK = 2 ** -30;

/**
 * The points centred on their mean and scaled by a power of two (exact) so that the largest
 * norm is in (½, 1]: `direct` when that norm is 0 or outside [2⁻⁵⁰⁰, 2⁵⁰⁰], where the screen's
 * bounds do not hold and distances are computed directly (then the points are only centred).
 *
 * @param x n × d row-major coordinates.
 * @param n Number of points, ≥ 1.
 * @param d Dimension.
 * @returns The mean, the centred and scaled points, the scale, and whether to search directly.
 */
export function centreAndScale(
  x: Float64Array,
  n: number,
  d: number,
): {
  readonly mean: Float64Array;
  readonly y: Float64Array;
  readonly scale: number;
  readonly direct: boolean;
} {
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
  const direct = !(radius === 0 || (radius >= 2 ** -500 && radius <= 2 ** 500));
  const scale = radius > 0 && !direct ? 2 ** -Math.ceil(Math.log2(radius)) : 1;
  const y = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) y[i * d + t] = (x[i * d + t] - mean[t]) * scale;
  }
  return { mean, y, scale, direct };
}

/** An operand or result of the product, in its precision. */
type GemmBuffer = Float64Array | Float32Array;

/**
 * Fills `index` / `distance2` (n × k, row-major, preset to −1 / ∞) with the exact k nearest
 * neighbours of every point, by the screened blocked search.
 *
 * @param x The original coordinates, n × d row-major (the direct distances read them).
 * @param y The same points centred and scaled by a power of two, largest norm in (½, 1].
 * @param n Number of points, ≥ 2.
 * @param d Dimension.
 * @param k Neighbours per point, in [1, n − 1].
 * @param scale2 The square of the scale from x to y.
 * @param gemm The product (checked).
 * @param B Points per block.
 * @param index Output: neighbour indices.
 * @param distance2 Output: their squared distances.
 * @param onProgress Progress callback (stage "knn", in points).
 */
export function screenedNeighbours(
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  k: number,
  scale2: number,
  gemm: NeighbourGemm,
  B: number,
  index: Int32Array,
  distance2: Float64Array,
  onProgress?: ProgressCallback,
): void {
  // Positions in the locality order: block b is positions [bB, (b + 1)B).
  const perm = localityOrder(y, n, d, B);
  const f32 = gemm.precision === "float32";
  const operand = newBuffer(f32, n * d);
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
  const search: Search = {
    s,
    n,
    d,
    B,
    f32,
    blocks: blockBalls(y, perm, norm, n, d, B, f32),
    operand,
    multiply: productOf(gemm, d),
    tile: newBuffer(f32, B * B),
    rowOn: new Uint8Array(B),
    colOn: new Uint8Array(B),
    colList: new Int32Array(B),
  };
  // 1. Each block with itself: every point gets candidates from its own compact block.
  const { normMax } = search.blocks, allOn = new Uint8Array(B).fill(1);
  for (let b = 0; b < search.blocks.count; b++) {
    const lo = b * B, hi = Math.min(n, lo + B), m = hi - lo;
    const g = tileProduct(search, lo, hi, lo, hi);
    scanTile(s, g, m, m, lo, lo, normMax[b], normMax[b], allOn, allOn, search.colList, 0);
  }
  onProgress?.({ stage: "knn", done: 0, total: n });
  // 2. The pairs of blocks a < b, nearest centres first.
  screenBlockPairs(search, onProgress);
  for (let q = 0; q < n; q++) {
    index.set(byPosition.subarray(q * k, q * k + k), perm[q] * k);
    distance2.set(distanceByPosition.subarray(q * k, q * k + k), perm[q] * k);
  }
  onProgress?.({ stage: "knn", done: n, total: n });
}

/** A zeroed operand of the product's precision. */
function newBuffer(f32: boolean, size: number): GemmBuffer {
  return f32 ? new Float32Array(size) : new Float64Array(size);
}

/** The product C ← A·Bᵀ of `gemm` for operands of dimension d, whatever its precision. */
function productOf(
  gemm: NeighbourGemm,
  d: number,
): (m: number, w: number, a: GemmBuffer, b: GemmBuffer, c: GemmBuffer) => void {
  const f32 = gemm.precision === "float32";
  return (m, w, a, b, c) => {
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
}

/** The blocks of the locality order, each with the ball that holds its points. */
interface Blocks {
  /** Number of blocks, ⌈n / B⌉. */
  readonly count: number;
  /** Centres, count × d row-major, in the product's precision (they are its operands). */
  readonly centre: GemmBuffer;
  /** Squared norm and norm of each centre. */
  readonly centre2: Float64Array;
  readonly centreNorm: Float64Array;
  /** Radius of each block about its centre. */
  readonly ball: Float64Array;
  /** Largest norm of each block's points. */
  readonly normMax: Float64Array;
}

/** Centre (in the product's precision), radius about it and largest norm of every block. */
function blockBalls(
  y: Float64Array,
  perm: Int32Array,
  norm: Float64Array,
  n: number,
  d: number,
  B: number,
  f32: boolean,
): Blocks {
  const blocks = Math.ceil(n / B);
  const centre = newBuffer(f32, blocks * d);
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
  return { count: blocks, centre, centre2, centreNorm, ball, normMax };
}

/** Everything the block products and scans of one search share. */
interface Search {
  readonly s: ScanState;
  readonly n: number;
  readonly d: number;
  readonly B: number;
  readonly f32: boolean;
  readonly blocks: Blocks;
  /** The centred, scaled points in the locality order, in the product's precision. */
  readonly operand: GemmBuffer;
  readonly multiply: (m: number, w: number, a: GemmBuffer, b: GemmBuffer, c: GemmBuffer) => void;
  /** The B × B product tile. */
  readonly tile: GemmBuffer;
  /** Per row / column of a tile: in reach; and the list of the columns in reach. */
  readonly rowOn: Uint8Array;
  readonly colOn: Uint8Array;
  readonly colList: Int32Array;
}

/** The rows of the operand at positions [lo, hi). */
function rows(search: Search, lo: number, hi: number): GemmBuffer {
  return search.operand.subarray(lo * search.d, hi * search.d);
}

/** The product of positions [lo, hi) with positions [c0, c1), in the tile. */
function tileProduct(search: Search, lo: number, hi: number, c0: number, c1: number): GemmBuffer {
  const g = search.tile.subarray(0, (hi - lo) * (c1 - c0));
  search.multiply(hi - lo, c1 - c0, rows(search, lo, hi), rows(search, c0, c1), g);
  return g;
}

/**
 * Step 2: the pairs of blocks a < b, for each a the nearest centres first. A row (column) is in
 * reach when the lower bound of its distance to the other block is within its current k-th
 * distance; a product is computed only when some row or column is. Column bounds come from a
 * strip of S centres against every later point, one product per S blocks: O(n S) memory, and a
 * real matrix product rather than S matrix–vector ones.
 */
function screenBlockPairs(search: Search, onProgress?: ProgressCallback): void {
  const { n, d, B, f32, multiply } = search, { centre, count: blocks } = search.blocks;
  const S = Math.min(16, blocks);
  const strip: Strip = { values: newBuffer(f32, n * S), start: -S, width: 0, base: 0 };
  const toCentres = newBuffer(f32, B * blocks);
  const order = new Int32Array(blocks), gapOf = new Float64Array(blocks);
  for (let a = 0; a < blocks - 1; a++) {
    const lo = a * B, hi = Math.min(n, lo + B), m = hi - lo;
    // Rows of a against every later centre; every later point against a's centre.
    multiply(m, blocks, rows(search, lo, hi), centre, toCentres);
    if (a >= strip.start + S) {
      strip.start = a;
      strip.width = Math.min(S, blocks - 1 - a);
      strip.base = hi;
      multiply(
        n - hi,
        strip.width,
        rows(search, hi, n),
        centre.subarray(a * d, (a + strip.width) * d),
        strip.values,
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
    for (const b of pending) screenBlockPair(search, a, b, toCentres, strip);
    onProgress?.({ stage: "knn", done: hi, total: n });
  }
}

/** Distances of the points after a block to the centres of S blocks (see {@link screenBlockPairs}). */
interface Strip {
  /** (n − base) × width, row-major: position base + r against centre start + c. */
  readonly values: GemmBuffer;
  start: number;
  width: number;
  base: number;
}

/** Blocks a < b: the rows and columns in reach, and if any, their product scanned. */
function screenBlockPair(
  search: Search,
  a: number,
  b: number,
  toCentres: GemmBuffer,
  strip: Strip,
): void {
  const { s, n, B, rowOn, colOn, colList } = search, { norm2, norm, tau } = s;
  const { centre2, normMax, count: blocks } = search.blocks;
  const lo = a * B, hi = Math.min(n, lo + B), m = hi - lo;
  const c0 = b * B, c1 = Math.min(n, c0 + B), w = c1 - c0;
  let rowsIn = 0, colCount = 0, colRadius = 0;
  for (let r = 0; r < m; r++) {
    const i = lo + r;
    const e = norm2[i] + centre2[b] - 2 * toCentres[r * blocks + b];
    rowOn[r] = reach(search, e, norm[i], b) <= tau[i] ? 1 : 0;
    rowsIn += rowOn[r];
  }
  for (let c = 0; c < w; c++) {
    const j = c0 + c;
    const e = norm2[j] + centre2[a] -
      2 * strip.values[(j - strip.base) * strip.width + a - strip.start];
    colOn[c] = reach(search, e, norm[j], a) <= tau[j] ? 1 : 0;
    if (colOn[c] === 1) {
      colList[colCount++] = c;
      if (norm[j] > colRadius) colRadius = norm[j];
    }
  }
  if (rowsIn === 0 && colCount === 0) return;
  if (rowsIn > 0) colRadius = normMax[b];
  const g = tileProduct(search, lo, hi, c0, c1);
  scanTile(s, g, m, w, lo, c0, normMax[a], colRadius, rowOn, colOn, colList, colCount);
}

/**
 * A lower bound of the scaled squared distance from a point (norm r) to any point of block b,
 * from the estimate e of its squared distance to b's centre.
 */
function reach(search: Search, e: number, r: number, b: number): number {
  const { kappa, absolute } = search.s, { centreNorm, ball } = search.blocks;
  const rc = r + centreNorm[b];
  const low = e - kappa * rc * rc - absolute;
  if (!(low > 0)) return 0;
  const gap = Math.sqrt(low) * (1 - 2 ** -40) - ball[b] - BALL_SLACK;
  return gap > 0 ? gap * gap * (1 - 2 ** -40) : 0;
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
  if (offerNeighbour(distance2, index, i * k, k, dist, perm[j])) {
    tau[i] = distance2[i * k + k - 1] * s.grow + s.directSlack;
  }
  if (offerNeighbour(distance2, index, j * k, k, dist, perm[i])) {
    tau[j] = distance2[j * k + k - 1] * s.grow + s.directSlack;
    if (s.colLimit[c] > -Infinity) {
      const rj = s.norm[j] + rowRadius;
      s.colLimit[c] = tau[j] + s.kappa * rj * rj + s.absolute;
    }
  }
  return tau[i];
}
