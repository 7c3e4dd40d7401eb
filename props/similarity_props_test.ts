import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { negSquaredDistances, standardise } from "../lib/core/similarity.ts";
import type { Matrix } from "../lib/core/matrix.ts";

/**
 * 2 to 12 points in 1 to 4 dimensions with moderate coordinates, some pair at squared
 * distance ≥ 1e-6 (so Σ has spread that float64 can represent; zero spread is a unit test).
 */
const points = fc.tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 4 }))
  .chain(([n, d]) =>
    fc.array(
      fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: d, maxLength: d }),
      { minLength: n, maxLength: n },
    )
  )
  .filter((pts) => Math.min(...negSquaredDistances(pts).data) <= -1e-6);

/** max |x − y| over entries. */
function maxDiff(a: Matrix, b: Matrix): number {
  let m = 0;
  for (let k = 0; k < a.data.length; k++) m = Math.max(m, Math.abs(a.data[k] - b.data[k]));
  return m;
}

Deno.test("standardise is a positive affine map: S' = (S − μ) / σ with one μ, σ > 0", () => {
  fc.assert(
    fc.property(points, (pts) => {
      const s = negSquaredDistances(pts), z = standardise(s);
      // Recover the slope from two distinct entries; every entry must fit the same line.
      const kMin = s.data.indexOf(Math.min(...s.data)), kMax = s.data.indexOf(0);
      const slope = (z.data[kMax] - z.data[kMin]) / (s.data[kMax] - s.data[kMin]);
      assert.ok(slope > 0);
      const range = -s.data[kMin];
      for (let k = 0; k < s.data.length; k++) {
        const predicted = z.data[kMin] + slope * (s.data[k] - s.data[kMin]);
        // Each standardised entry carries ~3 roundings relative to (range / σ) ≈ |z| ≤ n.
        assert.ok(Math.abs(predicted - z.data[k]) <= 1e-12 * (1 + slope * range));
      }
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("standardise is idempotent up to rounding", () => {
  fc.assert(
    fc.property(points, (pts) => {
      const z = standardise(negSquaredDistances(pts));
      // Entries of z are O(n) (a unit-variance vector of n² entries); mean/std of z are 0/1 up
      // to ~n² ulps, so re-standardising moves entries by ≲ 1e-12 for n ≤ 12.
      assert.ok(maxDiff(standardise(z), z) <= 1e-12);
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("standardise preserves the order of entries (hence unperturbed spanning forests)", () => {
  fc.assert(
    fc.property(points, (pts) => {
      const s = negSquaredDistances(pts), z = standardise(s);
      const n = s.n;
      // Correctly rounded subtraction and division by a positive number are monotone, so order
      // is kept weakly: a strict inequality may at most become a tie, a tie stays a tie.
      for (let a = 0; a < n * n; a++) {
        for (let b = 0; b < n * n; b++) {
          if (s.data[a] < s.data[b]) assert.ok(z.data[a] <= z.data[b]);
          if (s.data[a] === s.data[b]) assert.equal(z.data[a], z.data[b]);
        }
      }
      // With well separated distances no tie is created: the argsort of the off-diagonal
      // upper triangle is unchanged.
      const pairs: [number, number][] = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
      const order = (m: Matrix) =>
        pairs.map((_, p) => p).sort((p, q) => {
          const [i, j] = pairs[p], [k, l] = pairs[q];
          return m.data[i * n + j] - m.data[k * n + l] || p - q;
        });
      const so = order(s), zo = order(z);
      const gaps = so.slice(1).map((p, r) => {
        const [i, j] = pairs[p], [k, l] = pairs[so[r]];
        return s.data[i * n + j] - s.data[k * n + l];
      });
      const range = Math.max(...s.data.map((v) => -v));
      if (gaps.every((g) => g === 0 || g > 1e-9 * range)) assert.deepEqual(zo, so);
    }),
    { seed: 42, numRuns: 200 },
  );
});
