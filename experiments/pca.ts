/**
 * A tiny principal component analysis for 2-D views of embeddings: centre the points, then
 * find the leading eigenvectors of the covariance by power iteration with deflation. Enough for
 * plotting a few thousand points of dimension ≤ a few hundred, with no dependency.
 *
 * @module
 */

/** Result of {@link pca}. */
export interface PcaResult {
  /** Projections, one row of `components` coordinates per point. */
  readonly projected: number[][];
  /** Principal directions (unit vectors, orthogonal), one per component. */
  readonly directions: number[][];
  /** Variance along each direction (eigenvalues of the covariance, decreasing). */
  readonly variances: number[];
}

/**
 * Projects points onto their first `components` principal directions.
 *
 * Power iteration on the d × d covariance C with a fixed, deterministic start vector; each found
 * direction u is deflated (C ← C − λ u uᵀ) before the next. Iterates until the direction moves
 * by less than 1e-10 or 500 iterations (enough for a plot; near-equal eigenvalues converge
 * slowly but any direction in their span is an equally good view).
 *
 * @param points n × d rows (not mutated), n ≥ 1, all of the same length d ≥ 1.
 * @param components Number of components (1 ≤ components ≤ d), default 2.
 * @returns Projections, directions and variances.
 * @throws {RangeError} If the points are empty or ragged, hold a non-finite value, or
 * `components` is out of range.
 *
 * @example Points on a line are one-dimensional
 * ```ts
 * import { pca } from "./pca.ts";
 * import assert from "node:assert/strict";
 * const { variances, projected } = pca([[0, 0], [1, 1], [2, 2]], 2);
 * assert.ok(Math.abs(variances[0] - 4 / 3) < 1e-9 && Math.abs(variances[1]) < 1e-9);
 * assert.ok(Math.abs(Math.abs(projected[0][0]) - Math.SQRT2) < 1e-9);
 * ```
 */
export function pca(points: readonly (readonly number[])[], components = 2): PcaResult {
  const n = points.length;
  if (n === 0) throw new RangeError("Invalid points: PCA needs at least one point (got none)");
  const d = points[0]!.length;
  if (!Number.isInteger(components) || components < 1 || components > d) {
    throw new RangeError(
      `Invalid components = ${components}: must be an integer in [1, ${d}] for dimension ${d}`,
    );
  }
  const mean = new Float64Array(d);
  points.forEach((p, i) => {
    if (p.length !== d) {
      throw new RangeError(`Invalid points[${i}]: length ${p.length}, but points[0] has ${d}`);
    }
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(p[j]!)) {
        throw new RangeError(`Invalid points[${i}][${j}] = ${p[j]}: values must be finite`);
      }
      mean[j]! += p[j]! / n;
    }
  });
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (const p of points) {
    for (let j = 0; j < d; j++) centred[j] = p[j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = centred[a]! / n;
      if (ca === 0) continue;
      for (let b = 0; b < d; b++) cov[a * d + b]! += ca * centred[b]!;
    }
  }
  const directions: number[][] = [];
  const variances: number[] = [];
  for (let c = 0; c < components; c++) {
    // Deterministic start not orthogonal to any axis in general.
    let u = Float64Array.from({ length: d }, (_, j) => 1 + 0.1 * Math.sin(7 * j + c));
    normalise(u);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let b = 0; b < d; b++) s += cov[a * d + b]! * u[b]!;
        w[a] = s;
      }
      lambda = dot(u, w);
      if (normalise(w) === 0) break; // no variance left: any unit vector will do
      let moved = 0;
      for (let j = 0; j < d; j++) moved += (w[j]! - u[j]!) ** 2;
      u = w;
      if (moved < 1e-20) break;
    }
    directions.push(Array.from(u));
    variances.push(Math.max(0, lambda));
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) cov[a * d + b]! -= lambda * u[a]! * u[b]!;
    }
  }
  const projected = points.map((p) =>
    directions.map((dir) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += (p[j]! - mean[j]!) * dir[j]!;
      return s;
    })
  );
  return { projected, directions, variances };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Scales v to unit length in place; returns its former norm (0 leaves v unchanged). */
function normalise(v: Float64Array): number {
  const norm = Math.sqrt(dot(v, v));
  if (norm > 0) { for (let i = 0; i < v.length; i++) v[i]! /= norm; }
  return norm;
}
