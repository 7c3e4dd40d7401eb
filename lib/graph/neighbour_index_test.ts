import assert from "node:assert/strict";
import type { NeighbourGemm, Neighbours } from "./exact_neighbours.ts";
import { neighbourIndex, queryNeighbours } from "./neighbour_index.ts";
import { rectFromData } from "../core/rect_matrix.ts";
import { bruteForceNeighbours } from "../../props/brute_force.ts";

/** Reproducible uniform numbers (LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The oracle: every query's n distances, sorted by (distance, index), cut at k. */
const bruteForce = bruteForceNeighbours;

function assertSame(got: Neighbours, want: Neighbours, what: string): void {
  assert.equal(got.n, want.n, what);
  assert.equal(got.k, want.k, what);
  for (let t = 0; t < want.index.length; t++) {
    if (got.index[t] !== want.index[t] || got.distance2[t] !== want.distance2[t]) {
      assert.fail(
        `${what}: query ${Math.floor(t / want.k)}, rank ${t % want.k}: got ${got.index[t]} (${
          got.distance2[t]
        }), want ${want.index[t]} (${want.distance2[t]})`,
      );
    }
  }
}

/** A float32 product: operands and sums in float32 (what sgemm computes, in some order). */
const f32Gemm: NeighbourGemm = {
  precision: "float32",
  multiply: (m, n, d, a, b, c) => {
    const acc = new Float32Array(1);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        acc[0] = 0;
        for (let t = 0; t < d; t++) acc[0] += Math.fround(a[i * d + t] * b[j * d + t]);
        c[i * n + j] = acc[0];
      }
    }
  },
};

/** Clustered points: c centres spread `spread`, unit Gaussian-ish noise (sum of uniforms). */
function clustered(n: number, d: number, c: number, spread: number, seed: number): Float64Array {
  const u = uniform(seed), centres = Array.from({ length: c * d }, () => spread * u());
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) x[i * d + t] = centres[(i % c) * d + t] + (u() + u() + u() - 1.5);
  }
  return x;
}

Deno.test("queryNeighbours equals brute force on clustered and uniform data, any block size", () => {
  const cases: [number, number, number, number, number][] = [
    // n, d, nq, k, blockSize
    [300, 2, 200, 5, 16],
    [257, 3, 90, 1, 256],
    [500, 7, 130, 10, 32],
    [400, 32, 70, 15, 64],
    [50, 1, 40, 50, 7],
    [1, 4, 5, 1, 3],
  ];
  for (const [n, d, nq, k, blockSize] of cases) {
    for (const spread of [0, 40]) {
      const ref = clustered(n, d, 5, spread, n + d), q = clustered(nq, d, 3, spread, 7 * n + d);
      const index = neighbourIndex(rectFromData(n, d, ref), { blockSize });
      const want = bruteForce(ref, n, q, nq, d, k);
      const what = `n ${n} d ${d} k ${k} B ${blockSize} spread ${spread}`;
      assertSame(queryNeighbours(index, rectFromData(nq, d, q), k), want, what);
      // A given order (the same, or none compact at all) gives the same lists.
      const again = neighbourIndex(rectFromData(n, d, ref), { blockSize, order: index.perm });
      assert.deepEqual(again.perm, index.perm);
      assertSame(queryNeighbours(again, rectFromData(nq, d, q), k), want, `${what} given order`);
      const shuffled = Int32Array.from({ length: n }, (_, i) => (i * 7919) % n);
      if (n % 7919 !== 0 && new Set(shuffled).size === n) {
        const other = neighbourIndex(rectFromData(n, d, ref), { blockSize, order: shuffled });
        assertSame(queryNeighbours(other, rectFromData(nq, d, q), k), want, `${what} shuffled`);
      }
      assertSame(
        queryNeighbours(index, rectFromData(nq, d, q), k, { gemm: f32Gemm }),
        want,
        `${what} float32`,
      );
    }
  }
});

Deno.test("queryNeighbours: ties, duplicates, queries on reference points and far queries", () => {
  // Integer grid: many equal distances, so the (distance, index) order decides.
  const d = 2, side = 12, n = side * side;
  const ref = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    ref[i * d] = i % side;
    ref[i * d + 1] = Math.floor(i / side) % 6; // every point twice: exact duplicates
  }
  const qs = [[3, 2], [0.5, 0.5], [5.5, 3], [1e12, -1e12], [11, 5], [-3, 2.5]];
  const q = Float64Array.from(qs.flat());
  const want = bruteForce(ref, n, q, qs.length, d, 9);
  for (const blockSize of [4, 16, 256]) {
    const index = neighbourIndex(rectFromData(n, d, ref), { blockSize });
    assertSame(queryNeighbours(index, qs, 9), want, `grid B ${blockSize}`);
    assertSame(queryNeighbours(index, qs, 9, { gemm: f32Gemm }), want, `grid f32 B ${blockSize}`);
  }
  // Exact ties between differently rounded estimates: pairs ±v about the query 0 are at equal
  // direct distances, but their centred, scaled coordinates round differently (the mean is not
  // 0), so only the screen's error bound keeps the smaller index of each tie.
  {
    const u = uniform(11), pairs = 150, dd = 5, extra = 60, nn = 2 * pairs + extra;
    const sym = new Float64Array(nn * dd);
    for (let p = 0; p < pairs; p++) {
      for (let t = 0; t < dd; t++) {
        const v = (u() - 0.5) * (p < 20 ? 0.3 : 3);
        // The later index holds +v: a tie is first met at the larger index in half the pairs.
        sym[(2 * p + (p % 2)) * dd + t] = v;
        sym[(2 * p + 1 - (p % 2)) * dd + t] = -v;
      }
    }
    for (let t = 2 * pairs * dd; t < sym.length; t++) sym[t] = 7 + u();
    const origin = new Float64Array(dd);
    for (const gemm of [undefined, f32Gemm]) {
      for (const blockSize of [8, 64]) {
        const index = neighbourIndex(rectFromData(nn, dd, sym), { blockSize });
        for (const kk of [1, 2, 5, 31]) {
          assertSame(
            queryNeighbours(index, rectFromData(1, dd, origin), kk, { gemm }),
            bruteForce(sym, nn, origin, 1, dd, kk),
            `mirror pairs k ${kk} B ${blockSize} ${gemm ? "f32" : "f64"}`,
          );
        }
      }
    }
  }
  // Reference points far from the origin with a tiny spread: cancellation in the product.
  const offset = 1e8, tight = new Float64Array(200 * 3), u = uniform(3);
  for (let t = 0; t < tight.length; t++) tight[t] = offset + 1e-4 * u();
  const tq = new Float64Array(30 * 3);
  for (let t = 0; t < tq.length; t++) tq[t] = offset + 1e-4 * u();
  assertSame(
    queryNeighbours(neighbourIndex(rectFromData(200, 3, tight), { blockSize: 8 }), {
      rows: 30,
      cols: 3,
      data: tq,
    }, 4),
    bruteForce(tight, 200, tq, 30, 3, 4),
    "offset cloud",
  );
});

Deno.test("queryNeighbours: bad input is a one-line error naming the argument", () => {
  const index = neighbourIndex([[0, 0], [1, 1], [2, 2]]);
  assert.throws(() => queryNeighbours(index, [[1, 2, 3]], 1), /Invalid queries: they have 3/);
  assert.throws(() => queryNeighbours(index, [[1, NaN]], 1), /Invalid queries\[0\]\[1\] = NaN/);
  assert.throws(() => queryNeighbours(index, [], 1), /Invalid queries: at least one row/);
  assert.throws(() => queryNeighbours(index, [[0, 0]], 4), /Invalid k = 4/);
  assert.throws(() => neighbourIndex([[0]], { blockSize: 0 }), /Invalid blockSize = 0/);
  assert.throws(
    () => neighbourIndex([[0], [1]], { order: new Int32Array([1, 2]) }),
    /Invalid order\[1\] = 2: a permutation of 0..1/,
  );
});
