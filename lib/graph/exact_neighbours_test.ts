import assert from "node:assert/strict";
import {
  exactNeighbours,
  jsGemm,
  multiplyAbT,
  type NeighbourGemm,
  type Neighbours,
  pairwiseExactNeighbours,
} from "./exact_neighbours.ts";
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

/** The oracle: every point's n − 1 distances, sorted by (distance, index), cut at k. */
const bruteForce = (x: Float64Array, n: number, d: number, k: number): Neighbours =>
  bruteForceNeighbours(x, n, x, n, d, k, true);

function assertSame(got: Neighbours, want: Neighbours, what: string): void {
  assert.equal(got.n, want.n, what);
  assert.equal(got.k, want.k, what);
  for (let t = 0; t < want.index.length; t++) {
    if (got.index[t] !== want.index[t] || got.distance2[t] !== want.distance2[t]) {
      const i = Math.floor(t / want.k);
      assert.fail(
        `${what}: point ${i}, rank ${t % want.k}: got ${got.index[t]} (${got.distance2[t]}), want ${
          want.index[t]
        } (${want.distance2[t]})`,
      );
    }
  }
}

/** Clustered points: c centres spread by `spread`, unit noise, optional offset. */
function clustered(seed: number, n: number, d: number, c: number, spread = 6, offset = 0) {
  const u = uniform(seed);
  const centres = Array.from({ length: c }, () => Array.from({ length: d }, () => spread * u()));
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) x[i * d + t] = offset + centres[i % c][t] + u() - 0.5;
  }
  return x;
}

/** A float64 product written out naively (the textbook triple loop). */
const naive64: NeighbourGemm = {
  precision: "float64",
  multiply(m, n, d, a, b, c) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += a[i * d + t] * b[j * d + t];
        c[i * n + j] = s;
      }
    }
  },
};

/** A float32 product: every operation rounded to float32, summed backwards (another order). */
const naive32: NeighbourGemm = {
  precision: "float32",
  multiply(m, n, d, a, b, c) {
    const f = Math.fround;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = d - 1; t >= 0; t--) s = f(s + f(a[i * d + t] * b[j * d + t]));
        c[i * n + j] = s;
      }
    }
  },
};

Deno.test("exactNeighbours equals brute force: several n, d, k, block sizes, products", () => {
  const cases = [
    { n: 2, d: 1, k: 1, blockSize: 256 },
    { n: 3, d: 2, k: 2, blockSize: 1 },
    { n: 50, d: 3, k: 49, blockSize: 7 }, // k = n − 1, blocks do not divide n
    { n: 97, d: 5, k: 6, blockSize: 16 },
    { n: 300, d: 8, k: 15, blockSize: 64 }, // n not a multiple of B
    { n: 300, d: 8, k: 15, blockSize: 1000 }, // n < B: one block
    { n: 513, d: 33, k: 10, blockSize: 32 },
    { n: 700, d: 2, k: 4, blockSize: 50 },
  ];
  for (const { n, d, k, blockSize } of cases) {
    for (
      const [name, x] of [
        ["uniform", Float64Array.from({ length: n * d }, uniform(n + d))],
        ["clustered", clustered(n * d, n, d, 5)],
      ] as const
    ) {
      const p = rectFromData(n, d, x), want = bruteForce(x, n, d, k);
      const what = `${name} n = ${n}, d = ${d}, k = ${k}, B = ${blockSize}`;
      assertSame(exactNeighbours(p, k, { blockSize }), want, `${what}, js`);
      assertSame(exactNeighbours(p, k, { blockSize, gemm: naive64 }), want, `${what}, naive64`);
      assertSame(exactNeighbours(p, k, { blockSize, gemm: naive32 }), want, `${what}, naive32`);
      assertSame(pairwiseExactNeighbours(p, k), want, `${what}, pairwise`);
    }
  }
});

Deno.test("exactNeighbours: exact ties go to the smaller index, whatever the product", () => {
  // Integer points on a small grid, many duplicates: most distances tie.
  const u = uniform(3), n = 400, d = 3, k = 12;
  const x = Float64Array.from({ length: n * d }, () => Math.floor(u() * 4));
  const p = rectFromData(n, d, x), want = bruteForce(x, n, d, k);
  for (const gemm of [jsGemm, naive64, naive32]) {
    for (const blockSize of [1, 13, 64]) {
      assertSame(
        exactNeighbours(p, k, { gemm, blockSize }),
        want,
        `${gemm.precision} B = ${blockSize}`,
      );
    }
  }
  // All points equal: every distance is 0, the lists are the k smallest other indices.
  const same = exactNeighbours(rectFromData(20, 2, new Float64Array(40).fill(7)), 3);
  assert.deepEqual([...same.index.subarray(0, 3)], [1, 2, 3]);
  assert.deepEqual([...same.index.subarray(57, 60)], [0, 1, 2]);
});

Deno.test("exactNeighbours: cancellation-prone data (large offsets, near-duplicates, extreme scales)", () => {
  const n = 240, d = 16, k = 8;
  const sets: [string, Float64Array][] = [
    // Far from the origin: ‖x‖² ≈ 1.6e13 against distances ≈ 1e-2; a float32 product of the raw
    // coordinates would be useless, the centred one is not.
    ["offset 1e6", clustered(1, n, d, 4, 0.5, 1e6).map((v, t) => v + (t % 7) * 1e-3)],
    // Pairs of near-duplicates (1e-9 apart) inside spread-out clusters.
    [
      "near-duplicates",
      clustered(2, n, d, 3, 100).map((v, t) => v + (Math.floor(t / d) % 2) * 1e-9),
    ],
    ["tiny", clustered(3, n, d, 4).map((v) => v * 1e-160)],
    ["huge", clustered(4, n, d, 4).map((v) => v * 1e150)],
    ["mixed magnitudes", clustered(5, n, d, 4).map((v, t) => t % d === 0 ? v * 1e8 : v)],
  ];
  for (const [name, x] of sets) {
    const p = rectFromData(n, d, x), want = bruteForce(x, n, d, k);
    for (const gemm of [jsGemm, naive32]) {
      assertSame(
        exactNeighbours(p, k, { gemm, blockSize: 32 }),
        want,
        `${name}, ${gemm.precision}`,
      );
    }
  }
});

Deno.test("exactNeighbours: k range, a single point, the progress callback, the old signature", () => {
  const pts = [[0, 0], [1, 0], [3, 0]];
  assert.deepEqual([...exactNeighbours(pts, 2).index], [1, 2, 0, 2, 1, 0]);
  assert.throws(() => exactNeighbours(pts, 3), RangeError);
  assert.throws(
    () => exactNeighbours(pts, 3),
    /^RangeError: Invalid k = 3: k must be an integer in \[1, 2\] for n = 3 points$/,
  );
  assert.throws(() => exactNeighbours(pts, 0), /Invalid k = 0/);
  assert.throws(() => exactNeighbours(pts, 1.5), /Invalid k = 1.5/);
  assert.throws(() => exactNeighbours(pts, "2" as unknown as number), TypeError);
  const one = exactNeighbours([[4, 2]], 1);
  assert.deepEqual([one.index[0], one.distance2[0]], [-1, Infinity]);
  const x = clustered(1, 200, 3, 2), p = rectFromData(200, 3, x);
  const seen: number[] = [];
  const viaFunction = exactNeighbours(p, 3, (q) => {
    assert.equal(q.stage, "knn");
    assert.equal(q.total, 200);
    seen.push(q.done);
  });
  assert.equal(seen.at(-1), 200);
  for (let t = 1; t < seen.length; t++) assert.ok(seen[t] >= seen[t - 1]);
  assertSame(viaFunction, bruteForce(x, 200, 3, 3), "progress callback as the third argument");
});

Deno.test("exactNeighbours: bad options are rejected with one line naming the argument", () => {
  const pts = [[0, 0], [1, 0], [3, 0]];
  const cases: [unknown, ErrorConstructor, RegExp][] = [
    [null, TypeError, /^Expected options to be an object or a progress callback, got null$/],
    [{ gemm: (() => {}) as unknown }, TypeError, /^Expected gemm to be \{ precision/],
    [{ gemm: { precision: "float16", multiply: () => {} } }, TypeError, /^Expected gemm to be/],
    [{ gemm: { precision: "float64" } }, TypeError, /^Expected gemm to be/],
    [{ blockSize: 0 }, RangeError, /^Invalid blockSize = 0: blockSize must be an integer/],
    [{ blockSize: 2.5 }, RangeError, /^Invalid blockSize = 2.5/],
    [{ onProgress: 3 }, TypeError, /^Expected onProgress to be a function, got 3$/],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      () => exactNeighbours(pts, 1, options as never),
      (e: Error) => e instanceof type && message.test(e.message) && !e.message.includes("\n"),
      String(message),
    );
  }
  assert.throws(() => exactNeighbours([[0, NaN]], 1), /points\[0\]\[1\] = NaN/);
  assert.throws(() => exactNeighbours([], 1), /at least one row/);
});

Deno.test("exactNeighbours: far blocks are skipped, and the lists stay exact", () => {
  // Ten tight, far-apart clusters: a product between two of them can be skipped. Count the
  // products through an injected gemm: far fewer than all pairs of blocks.
  const n = 2000, d = 4, k = 5, B = 50, x = clustered(9, n, d, 10, 1000);
  let calls = 0;
  const counting: NeighbourGemm = {
    precision: "float64",
    multiply: (m, w, dd, a, b, c) => {
      if (m === B && w === B) calls++;
      multiplyAbT(m, w, dd, a, b, c);
    },
  };
  const got = exactNeighbours(rectFromData(n, d, x), k, { gemm: counting, blockSize: B });
  assertSame(got, bruteForce(x, n, d, k), "ten clusters");
  const blocks = n / B;
  assert.ok(
    calls < blocks * (blocks + 1) / 4,
    `${calls} block products of ${blocks * (blocks + 1) / 2}`,
  );
});
