/**
 * Similarity matrices Σ built from points (embeddings), the input of every spanning-forest
 * solver: negative squared distances (the paper's choice), Gaussian and cosine similarities,
 * and the standardisation (Σ − mean) / std that the paper's code applies before adding noise.
 *
 * All builders return an exactly symmetric {@link Matrix} (the upper triangle is computed and
 * mirrored) and never mutate their input.
 *
 * @module
 */
import { assertPositiveFinite, show } from "./errors.ts";
import { assertSimilarity, type Matrix } from "./matrix.ts";

/** Validates points: non-empty, rectangular, at least one coordinate, finite. Returns [n, d]. */
function pointsShape(points: readonly (readonly number[])[]): readonly [number, number] {
  if (!Array.isArray(points)) {
    throw new TypeError(`Expected points to be an array of coordinate arrays, got ${show(points)}`);
  }
  const n = points.length;
  if (n === 0) throw new RangeError("Invalid points: it is empty, at least one point is needed");
  const first = points[0];
  if (!Array.isArray(first)) {
    throw new TypeError(`Expected points[0] to be an array of numbers, got ${show(first)}`);
  }
  const d = first.length;
  if (d === 0) {
    throw new RangeError("Invalid points[0]: it has no coordinates (dimension 0)");
  }
  for (let i = 0; i < n; i++) {
    const p = points[i];
    if (!Array.isArray(p)) {
      throw new TypeError(`Expected points[${i}] to be an array of numbers, got ${show(p)}`);
    }
    if (p.length !== d) {
      throw new RangeError(
        `Invalid points[${i}]: it has ${p.length} coordinates but points[0] has ${d} (ragged)`,
      );
    }
    for (let k = 0; k < d; k++) {
      const v = p[k];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(
          `Invalid points[${i}][${k}] = ${show(v)}: coordinates must be finite numbers`,
        );
      }
    }
  }
  return [n, d];
}

/** ‖x_i − x_j‖² summed coordinate by coordinate (no Gram trick: exact 0 for equal points). */
function squaredDistance(x: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) {
    const diff = x[k] - y[k];
    s += diff * diff;
  }
  return s;
}

/**
 * Fills an exactly symmetric matrix from a pairwise function evaluated on i < j only.
 * The diagonal is `diagonal`; `-0` is normalised to `0` so equal points give `+0` everywhere.
 */
function symmetricFrom(
  n: number,
  diagonal: number,
  pair: (i: number, j: number) => number,
): Matrix {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    data[i * n + i] = diagonal;
    for (let j = i + 1; j < n; j++) {
      const v = pair(i, j) + 0; // -0 + 0 === +0
      data[i * n + j] = v;
      data[j * n + i] = v;
    }
  }
  return { n, data };
}

/**
 * The paper's similarity Σ_ij = −‖x_i − x_j‖² (Section 4: the maximum spanning forest on Σ is
 * the minimum spanning forest on squared distances, i.e. single linkage).
 *
 * Computed coordinate-wise rather than via ‖x‖² + ‖y‖² − 2⟨x, y⟩, so the diagonal is exactly
 * 0, equal points get exactly 0, and the matrix is exactly symmetric.
 *
 * @param points `n` points with `d ≥ 1` finite coordinates each.
 * @returns The `n × n` matrix Σ (entries ≤ 0).
 * @throws {TypeError} If `points` is not an array of arrays.
 * @throws {RangeError} If it is empty, ragged, has dimension 0 or a non-finite coordinate, or
 *   a squared distance overflows float64.
 *
 * @example Three points on a line
 * ```ts
 * import { negSquaredDistances } from "./similarity.ts";
 * import { toRows } from "./matrix.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toRows(negSquaredDistances([[0], [1], [3]])), [
 *   [0, -1, -9],
 *   [-1, 0, -4],
 *   [-9, -4, 0],
 * ]);
 * ```
 *
 * @category Core
 */
export function negSquaredDistances(points: readonly (readonly number[])[]): Matrix {
  const [n] = pointsShape(points);
  return symmetricFrom(n, 0, (i, j) => {
    const s = squaredDistance(points[i], points[j]);
    if (!Number.isFinite(s)) {
      throw new RangeError(
        `Invalid points: the squared distance between points[${i}] and points[${j}] overflows float64`,
      );
    }
    return -s;
  });
}

/**
 * Gaussian (RBF) similarity Σ_ij = exp(−‖x_i − x_j‖² / (2h²)), with ones on the diagonal.
 * A monotone transform of {@link negSquaredDistances}, so it gives the same spanning forests.
 *
 * @param points `n` points with `d ≥ 1` finite coordinates each.
 * @param bandwidth The length scale h > 0.
 * @returns The `n × n` matrix Σ with entries in [0, 1].
 * @throws {TypeError} If `points` is not an array of arrays or `bandwidth` not a number.
 * @throws {RangeError} If `points` is invalid (see {@link negSquaredDistances}) or
 *   `bandwidth` is not a finite positive number (or 2h² underflows to 0 or overflows).
 *
 * @example Similarity decays with distance
 * ```ts
 * import { gaussianSimilarity } from "./similarity.ts";
 * import assert from "node:assert/strict";
 * const s = gaussianSimilarity([[0, 0], [0, 2]], 2);
 * assert.equal(s.data[0], 1);
 * assert.equal(s.data[1], Math.exp(-4 / 8));
 * ```
 *
 * @category Core
 */
export function gaussianSimilarity(
  points: readonly (readonly number[])[],
  bandwidth: number,
): Matrix {
  assertPositiveFinite("bandwidth", bandwidth);
  const [n] = pointsShape(points);
  const scale = 2 * bandwidth * bandwidth;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new RangeError(
      `Invalid bandwidth = ${bandwidth}: 2h² = ${scale} must be a finite positive number`,
    );
  }
  return symmetricFrom(n, 1, (i, j) => Math.exp(-squaredDistance(points[i], points[j]) / scale));
}

/**
 * Cosine similarity Σ_ij = ⟨x_i, x_j⟩ / (‖x_i‖ ‖x_j‖), with exact ones on the diagonal and
 * off-diagonal values clamped to [−1, 1] (rounding can otherwise overshoot slightly).
 *
 * @param points `n` points with `d ≥ 1` finite coordinates each, none of them zero.
 * @returns The `n × n` matrix Σ with entries in [−1, 1].
 * @throws {TypeError} If `points` is not an array of arrays.
 * @throws {RangeError} If `points` is invalid (see {@link negSquaredDistances}) or a point
 *   is the zero vector (its direction is undefined).
 *
 * @example Orthogonal and opposite directions
 * ```ts
 * import { cosineSimilarity } from "./similarity.ts";
 * import { toRows } from "./matrix.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toRows(cosineSimilarity([[1, 0], [0, 3], [-2, 0]])), [
 *   [1, 0, -1],
 *   [0, 1, 0],
 *   [-1, 0, 1],
 * ]);
 * ```
 *
 * @category Core
 */
export function cosineSimilarity(points: readonly (readonly number[])[]): Matrix {
  const [n, d] = pointsShape(points);
  // Scale each point by its largest |coordinate| first so the norm neither overflows nor
  // underflows; the cosine is scale-invariant.
  const unit: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = points[i];
    let maxAbs = 0;
    for (let k = 0; k < d; k++) maxAbs = Math.max(maxAbs, Math.abs(p[k]));
    if (maxAbs === 0) {
      throw new RangeError(
        `Invalid points[${i}]: it is the zero vector, whose cosine similarity is undefined`,
      );
    }
    const u = new Float64Array(d);
    let norm2 = 0;
    for (let k = 0; k < d; k++) {
      u[k] = p[k] / maxAbs;
      norm2 += u[k] * u[k];
    }
    const norm = Math.sqrt(norm2);
    for (let k = 0; k < d; k++) u[k] /= norm;
    unit.push(u);
  }
  return symmetricFrom(n, 1, (i, j) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += unit[i][k] * unit[j][k];
    return Math.min(1, Math.max(-1, dot));
  });
}

/**
 * Standardises a similarity matrix over all its n² entries (diagonal included), as the paper's
 * code does before perturbing: Σ' = (Σ − mean(Σ)) / std(Σ), with the population standard
 * deviation (numpy's default, ddof = 0).
 *
 * The map is a positive affine transform, so it preserves the order of entries (up to ties
 * created by rounding) and hence the unperturbed maximum spanning forests; it fixes the
 * scale that the noise amplitude ε is relative to.
 *
 * A matrix whose entries are all equal (including every 1 × 1 matrix) has no spread; rather
 * than return NaN or an arbitrary matrix this throws.
 *
 * @param sigma A similarity matrix (square, finite, symmetric).
 * @returns A new matrix with mean 0 and standard deviation 1 over its n² entries.
 * @throws {TypeError} If `sigma` is not a {@link Matrix}.
 * @throws {RangeError} If `sigma` is mis-sized, non-finite or asymmetric, or has zero spread.
 *
 * @example Mean 0 and unit spread
 * ```ts
 * import { standardise } from "./similarity.ts";
 * import { matrix, toRows } from "./matrix.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toRows(standardise(matrix([[0, -2], [-2, 0]]))), [[1, -1], [-1, 1]]);
 * assert.throws(() => standardise(matrix([[5]])), RangeError);
 * ```
 *
 * @category Core
 */
export function standardise(sigma: Matrix): Matrix {
  assertSimilarity("sigma", sigma);
  const { n, data } = sigma;
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  if (min === max) {
    throw new RangeError(
      `Invalid sigma: it has zero spread (all ${
        n * n
      } entries equal ${min}), so it cannot be standardised`,
    );
  }
  const mean = sum / data.length;
  let squares = 0;
  for (const v of data) squares += (v - mean) * (v - mean);
  const std = Math.sqrt(squares / data.length);
  if (!(std > 0) || !Number.isFinite(std)) {
    // Entries so close (or so large) that the spread under/overflows float64.
    throw new RangeError(
      `Invalid sigma: its standard deviation ${std} is not a finite positive number (entries in [${min}, ${max}])`,
    );
  }
  const out = new Float64Array(data.length);
  for (let k = 0; k < data.length; k++) out[k] = (data[k] - mean) / std;
  return { n, data: out };
}

/**
 * Vector–Jacobian product of {@link standardise}: given Σ and a cotangent G on the standardised
 * matrix S = (Σ − μ)/s (μ, s the mean and population standard deviation of all n² entries),
 * returns the cotangent on Σ,
 *
 *   ∂L/∂Σ = (G − mean(G) − S · mean(G ⊙ S)) / s,
 *
 * which follows from ∂μ/∂Σ = 1/N and ∂s/∂Σ = S/N (N = n²). The result sums to zero and is
 * orthogonal to S: a loss of a standardised similarity cannot see shifts or rescalings of Σ.
 *
 * @param sigma The raw similarity matrix that was standardised.
 * @param grad Cotangent on the standardised matrix (same size).
 * @returns The cotangent on `sigma`.
 * @throws {TypeError | RangeError} If `sigma` is invalid or has zero spread, or sizes differ.
 *
 * @example Matches a finite difference
 * ```ts
 * import { matrix } from "./matrix.ts";
 * import { standardise, standardiseVjp } from "./similarity.ts";
 * import assert from "node:assert/strict";
 * const sigma = matrix([[0, -1, -4], [-1, 0, -2], [-4, -2, 0]]);
 * const g = matrix([[0, 1, 0], [1, 0, 0], [0, 0, 0]]); // L(S) = S01 + S10
 * const back = standardiseVjp(sigma, g);
 * const h = 1e-6, bumped = sigma.data.slice();
 * bumped[2] += h; bumped[6] += h; // move Σ02 = Σ20
 * const L = (d: Float64Array) => { const s = standardise({ n: 3, data: d }); return s.data[1] + s.data[3]; };
 * const fd = (L(bumped) - L(sigma.data)) / h;
 * assert.ok(Math.abs(fd - (back.data[2] + back.data[6])) < 1e-5);
 * ```
 *
 * @category Core
 */
export function standardiseVjp(sigma: Matrix, grad: Matrix): Matrix {
  const s = standardise(sigma);
  if (grad.n !== sigma.n || grad.data.length !== sigma.data.length) {
    throw new RangeError(`Invalid grad: size ${grad.n} differs from sigma's size ${sigma.n}`);
  }
  const N = sigma.data.length;
  let mean = 0;
  for (const v of sigma.data) mean += v;
  mean /= N;
  let sq = 0;
  for (const v of sigma.data) sq += (v - mean) * (v - mean);
  const std = Math.sqrt(sq / N);
  let gMean = 0, gsMean = 0;
  for (let t = 0; t < N; t++) {
    gMean += grad.data[t];
    gsMean += grad.data[t] * s.data[t];
  }
  gMean /= N;
  gsMean /= N;
  const out = new Float64Array(N);
  for (let t = 0; t < N; t++) out[t] = (grad.data[t] - gMean - s.data[t] * gsMean) / std;
  return { n: sigma.n, data: out };
}

/**
 * Vector–Jacobian product of {@link negSquaredDistances}: for Σ_ij = −‖x_i − x_j‖² and a
 * cotangent G on Σ, returns ∂L/∂x_i = −2 Σ_j (G_ij + G_ji)(x_i − x_j).
 *
 * @param points The n points (each of dimension d).
 * @param grad Cotangent on Σ (n × n).
 * @returns ∂L/∂points as n arrays of length d.
 * @throws {TypeError | RangeError} If `points` is invalid or `grad` has the wrong size.
 *
 * @example Pulling two points together lowers −Σ01
 * ```ts
 * import { matrix } from "./matrix.ts";
 * import { negSquaredDistancesVjp } from "./similarity.ts";
 * import assert from "node:assert/strict";
 * const g = negSquaredDistancesVjp([[0], [1]], matrix([[0, 1], [1, 0]]));
 * assert.deepEqual(g, [[4], [-4]]); // ∂(Σ01 + Σ10)/∂x0 = −4(x0 − x1)
 * ```
 *
 * @category Core
 */
export function negSquaredDistancesVjp(
  points: readonly (readonly number[])[],
  grad: Matrix,
): number[][] {
  const [n, d] = pointsShape(points);
  if (grad.n !== n || grad.data.length !== n * n) {
    throw new RangeError(`Invalid grad: it is ${grad.n} × ${grad.n} but there are ${n} points`);
  }
  const out = Array.from({ length: n }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const w = -2 * (grad.data[i * n + j] + grad.data[j * n + i]);
      for (let c = 0; c < d; c++) out[i][c] += w * (points[i][c] - points[j][c]);
    }
  }
  return out;
}
