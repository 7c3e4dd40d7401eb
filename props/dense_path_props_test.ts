/**
 * The dense public path against oracles written here: validation of Σ (`assertSimilarity`)
 * accepts and rejects exactly as the plain rule (row-major finiteness, then symmetry up to
 * SYMMETRY_TOLERANCE × max |Σ_ij|, first offending entry named), and the hierarchy equals a
 * textbook Prim plus a comparator sort, tie-breaking included.
 */
import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import {
  assertSimilarity,
  fromData,
  largestAsymmetry,
  SYMMETRY_TOLERANCE,
} from "../lib/core/matrix.ts";
import { forestHierarchy, unsafeForestHierarchy } from "../lib/forest/spanning_forest.ts";

/** The validation rule, spelled out: its error message, or "ok". */
function referenceVerdict(n: number, data: Float64Array): string {
  for (let k = 0; k < n * n; k++) {
    if (!Number.isFinite(data[k])) {
      return `Invalid sigma[${Math.floor(k / n)}][${k % n}] = ${data[k]}: entries must be finite`;
    }
  }
  let scale = 0;
  for (let k = 0; k < n * n; k++) scale = Math.max(scale, Math.abs(data[k]));
  const tol = SYMMETRY_TOLERANCE * Math.max(1, scale);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = data[i * n + j], b = data[j * n + i];
      if (Math.abs(a - b) > tol) {
        return `Invalid sigma: not symmetric at (${i}, ${j}): ${a} vs ${b} (tolerance ${tol})`;
      }
    }
  }
  return "ok";
}

function verdict(n: number, data: Float64Array): string {
  try {
    assertSimilarity("sigma", fromData(n, data));
    return "ok";
  } catch (e) {
    assert.ok(e instanceof RangeError);
    return e.message;
  }
}

/** A planted defect: where, and what (a value, or an asymmetry in multiples of the tolerance). */
type Plant = { i: number; j: number; kind: "value"; value: number } | {
  i: number;
  j: number;
  kind: "asymmetry";
  times: number;
};

const plantArb = (n: number): fc.Arbitrary<Plant> =>
  fc.record({
    i: fc.integer({ min: 0, max: n - 1 }),
    j: fc.integer({ min: 0, max: n - 1 }),
    what: fc.oneof(
      fc.constantFrom(NaN, Infinity, -Infinity, 1.7e308, -1.7e308).map((value) => ({
        kind: "value" as const,
        value,
      })),
      // Just below and just above the tolerance, either sign, and far beyond it.
      fc.constantFrom(0.5, 0.999, 1.001, 2, 1e3).chain((times) =>
        fc.boolean().map((neg) => ({ kind: "asymmetry" as const, times: neg ? -times : times }))
      ),
    ),
  }).map(({ i, j, what }) => ({ i, j, ...what }));

/**
 * An n × n symmetric matrix whose upper triangle (diagonal included), in row order, is
 * `value(u)` of successive uniforms u in [0, 1) of a seeded linear congruential generator.
 */
function seededSymmetric(n: number, seed: number, value: (u: number) => number): Float64Array {
  let x = seed;
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[i * n + j] = data[j * n + i] = value(x / 2 ** 32);
    }
  }
  return data;
}

/**
 * Symmetric Σ with entries of one random magnitude (small integers for many exact ties, or
 * continuous), then up to three planted defects; with `pairInRow`, two asymmetries of opposite
 * sign in the same row (the pattern a plain, unweighted checksum of the row would cancel).
 */
const dirtySigmaArb = fc.record({
  n: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 60, max: 140 })),
  magnitude: fc.constantFrom(1e-3, 1, 1e6, 1e12),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
  integers: fc.boolean(),
}).chain(({ n, magnitude, seed, integers }) =>
  fc.record({
    plants: fc.array(plantArb(n), { maxLength: 3 }),
    pairInRow: fc.option(
      fc.record({
        i: fc.integer({ min: 0, max: n - 1 }),
        j1: fc.integer({ min: 0, max: n - 1 }),
        j2: fc.integer({ min: 0, max: n - 1 }),
        times: fc.constantFrom(0.999, 1.001, 3),
      }),
    ),
  }).map(({ plants, pairInRow }) => {
    const data = seededSymmetric(
      n,
      seed,
      (u) => magnitude * (integers ? Math.round(6 * u) - 3 : u - 0.5),
    );
    const tol = SYMMETRY_TOLERANCE * Math.max(1, ...Array.from(data, Math.abs));
    for (const p of plants) {
      if (p.kind === "value") data[p.i * n + p.j] = p.value;
      else data[p.i * n + p.j] += p.times * tol;
    }
    if (pairInRow) {
      const { i, j1, j2, times } = pairInRow;
      data[i * n + j1] += times * tol;
      data[i * n + j2] -= times * tol;
    }
    return { n, data };
  })
);

Deno.test("assertSimilarity accepts and rejects exactly as the plain rule, with the same message", () => {
  const outcomes = new Set<string>();
  fc.assert(
    fc.property(dirtySigmaArb, ({ n, data }) => {
      const expected = referenceVerdict(n, data);
      assert.equal(verdict(n, data), expected);
      outcomes.add(expected === "ok" ? "ok" : expected.includes("symmetric") ? "sym" : "finite");
    }),
    { seed: 14, numRuns: 400 },
  );
  // The generator reaches all three outcomes.
  assert.deepEqual([...outcomes].sort(), ["finite", "ok", "sym"]);
});

Deno.test("largestAsymmetry equals the plain max |Σ_ij − Σ_ji| (NaN if one is NaN) for any tile", () => {
  fc.assert(
    fc.property(dirtySigmaArb, fc.constantFrom(1, 3, 16, 64, 128), ({ n, data }, tile) => {
      let expected = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) {
          expected = Math.max(expected, Math.abs(data[i * n + j] - data[j * n + i]));
        }
      }
      assert.ok(Object.is(largestAsymmetry(data, n, tile), expected), `tile ${tile}`);
    }),
    { seed: 14, numRuns: 300 },
  );
});

/**
 * The hierarchy by the textbook: Prim over all vertices (the first largest key joins, a key
 * improves only on a strictly larger similarity), then the tree edges sorted by decreasing weight,
 * equal weights by vertex, with a comparator.
 */
function referenceHierarchy(n: number, data: Float64Array) {
  const inTree = new Uint8Array(n), key = new Float64Array(n).fill(-Infinity);
  const from = new Int32Array(n), edges: { v: number; p: number; w: number }[] = [];
  inTree[0] = 1;
  for (let j = 1; j < n; j++) key[j] = data[j];
  for (let step = 1; step < n; step++) {
    let v = -1;
    for (let j = 0; j < n; j++) if (!inTree[j] && (v === -1 || key[j] > key[v])) v = j;
    inTree[v] = 1;
    edges.push({ v, p: from[v], w: key[v] });
    for (let j = 0; j < n; j++) {
      if (!inTree[j] && data[v * n + j] > key[j]) {
        key[j] = data[v * n + j];
        from[j] = v;
      }
    }
  }
  edges.sort((a, b) => b.w - a.w || a.v - b.v);
  return {
    left: edges.map((e) => Math.min(e.v, e.p)),
    right: edges.map((e) => Math.max(e.v, e.p)),
    weights: edges.map((e) => e.w),
  };
}

const symmetricArb = (maxN: number) =>
  fc.record({
    n: fc.integer({ min: 1, max: maxN }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    levels: fc.constantFrom(2, 5, 0), // 0: continuous, otherwise that many distinct values
  }).map(({ n, seed, levels }) => ({
    n,
    data: seededSymmetric(n, seed, (u) => levels === 0 ? u : Math.floor(u * levels)),
  }));

Deno.test("forestHierarchy equals the textbook Prim and sort, ties included", () => {
  fc.assert(
    fc.property(symmetricArb(200), ({ n, data }) => {
      const h = forestHierarchy(fromData(n, data)), ref = referenceHierarchy(n, data);
      assert.deepEqual([...h.left], ref.left);
      assert.deepEqual([...h.right], ref.right);
      assert.deepEqual([...h.weights], ref.weights);
    }),
    { seed: 14, numRuns: 60 },
  );
  // Past the merge sort's range (the radix argsort), with ties.
  for (const levels of [3, 0]) {
    const n = 1100, data = new Float64Array(n * n);
    let x = levels;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const u = x / 2 ** 32;
        data[i * n + j] = data[j * n + i] = levels === 0 ? u : Math.floor(u * levels);
      }
    }
    const h = forestHierarchy(fromData(n, data)), ref = referenceHierarchy(n, data);
    assert.deepEqual([...h.left], ref.left);
    assert.deepEqual([...h.right], ref.right);
  }
});

Deno.test("unsafeForestHierarchy on NaN / ±∞ entries still returns a spanning tree", () => {
  fc.assert(
    fc.property(
      symmetricArb(80).chain(({ n, data }) =>
        fc.array(
          fc.record({
            k: fc.integer({ min: 0, max: n * n - 1 }),
            v: fc.constantFrom(NaN, Infinity, -Infinity),
          }),
          { maxLength: n * n },
        ).map((bad) => {
          for (const { k, v } of bad) data[k] = v;
          return { n, data };
        })
      ),
      ({ n, data }) => {
        const h = unsafeForestHierarchy(fromData(n, data));
        assert.equal(h.left.length, n - 1);
        const root = Int32Array.from({ length: n }, (_, i) => i);
        const find = (a: number): number => (root[a] === a ? a : (root[a] = find(root[a])));
        for (let t = 0; t < n - 1; t++) {
          const a = find(h.left[t]), b = find(h.right[t]);
          assert.notEqual(a, b); // no cycle: n − 1 such merges span all n points
          root[a] = b;
        }
      },
    ),
    { seed: 14, numRuns: 100 },
  );
});
