import assert from "node:assert/strict";
import {
  cosineSimilarity,
  gaussianSimilarity,
  negSquaredDistances,
  standardise,
} from "./similarity.ts";
import { assertSimilarity, matrix, toRows } from "./matrix.ts";

const POINTS = [[-1, -1], [1, -1], [4, 0], [-6, 0]]; // notes/reference_facts.md fixture

Deno.test("negSquaredDistances", async (t) => {
  await t.step("hand-computed values on the reference fixture", () => {
    assert.deepEqual(toRows(negSquaredDistances(POINTS)), [
      [0, -4, -26, -26],
      [-4, 0, -10, -50],
      [-26, -10, 0, -100],
      [-26, -50, -100, 0],
    ]);
  });
  await t.step("exact zero diagonal, exact symmetry, +0 for duplicate points", () => {
    const pts = [[0.1, 0.7, -3.3], [1e-3, 2.5, 9.1], [0.1, 0.7, -3.3]];
    const s = negSquaredDistances(pts);
    for (let i = 0; i < 3; i++) {
      assert.ok(Object.is(s.data[i * 3 + i], 0));
      for (let j = 0; j < 3; j++) assert.ok(Object.is(s.data[i * 3 + j], s.data[j * 3 + i]));
    }
    assert.ok(Object.is(s.data[2], 0)); // points 0 and 2 coincide: +0, not -0
    assertSimilarity("s", s);
  });
  await t.step("a single point gives the 1 × 1 zero matrix", () => {
    assert.deepEqual(toRows(negSquaredDistances([[5, 5]])), [[0]]);
  });
  await t.step("does not mutate its input", () => {
    const pts = [[1, 2], [3, 4]];
    negSquaredDistances(pts);
    assert.deepEqual(pts, [[1, 2], [3, 4]]);
  });
  await t.step("overflowing distances are reported, not returned as -Infinity", () => {
    assert.throws(() => negSquaredDistances([[1e200], [-1e200]]), {
      name: "RangeError",
      message: /points\[0\] and points\[1\] overflows/,
    });
  });
});

Deno.test("points validation names the argument and position", async (t) => {
  for (
    const [name, f] of [
      ["negSquaredDistances", negSquaredDistances],
      ["gaussianSimilarity", (p: number[][]) => gaussianSimilarity(p, 1)],
      ["cosineSimilarity", cosineSimilarity],
    ] as const
  ) {
    await t.step(name, () => {
      assert.throws(() => f([]), { name: "RangeError", message: /Invalid points: it is empty/ });
      assert.throws(() => f([[]]), { name: "RangeError", message: /points\[0\].*dimension 0/ });
      assert.throws(() => f([[1, 2], [3]]), { name: "RangeError", message: /points\[1\].*ragged/ });
      assert.throws(() => f([[1, 2], [3, NaN]]), {
        name: "RangeError",
        message: /points\[1\]\[1\] = NaN/,
      });
      assert.throws(() => f([[1], [-Infinity]]), {
        name: "RangeError",
        message: /points\[1\]\[0\]/,
      });
      assert.throws(() => f([[1], ["2"]] as never), {
        name: "RangeError",
        message: /points\[1\]\[0\] = "2"/,
      });
      assert.throws(() => f("xy" as never), { name: "TypeError", message: /Expected points/ });
      assert.throws(() => f([[1], 2] as never), { name: "TypeError", message: /points\[1\]/ });
    });
  }
});

Deno.test("gaussianSimilarity", async (t) => {
  await t.step("equals exp(−d² / 2h²) entrywise, ones on the diagonal", () => {
    const h = 1.5;
    const g = gaussianSimilarity(POINTS, h);
    const d = negSquaredDistances(POINTS);
    for (let k = 0; k < 16; k++) {
      assert.ok(Math.abs(g.data[k] - Math.exp(d.data[k] / (2 * h * h))) <= 1e-15);
    }
    for (let i = 0; i < 4; i++) assert.equal(g.data[i * 4 + i], 1);
    assertSimilarity("g", g);
  });
  await t.step("rejects a bad bandwidth", () => {
    for (const h of [0, -1, NaN, Infinity, 1e200, 1e-200]) {
      assert.throws(() => gaussianSimilarity(POINTS, h), {
        name: "RangeError",
        message: /Invalid bandwidth/,
      });
    }
    assert.throws(() => gaussianSimilarity(POINTS, "1" as never), {
      name: "TypeError",
      message: /bandwidth/,
    });
  });
});

Deno.test("cosineSimilarity", async (t) => {
  await t.step("scale invariant, in [−1, 1], exact unit diagonal", () => {
    const pts = [[3, 4], [6, 8], [-4, 3], [1e-300, 1e-300], [1e300, -1e300]];
    const c = cosineSimilarity(pts);
    assert.equal(c.data[0 * 5 + 1], 1); // parallel, clamped
    assert.ok(Math.abs(c.data[0 * 5 + 2]) <= 1e-16); // orthogonal
    assert.ok(Math.abs(c.data[3 * 5 + 4] - 0) <= 1e-16); // tiny and huge, orthogonal
    assert.ok(Math.abs(c.data[0 * 5 + 3] - 7 / (5 * Math.SQRT2)) <= 1e-15);
    for (const v of c.data) assert.ok(v >= -1 && v <= 1);
    for (let i = 0; i < 5; i++) assert.equal(c.data[i * 5 + i], 1);
    assertSimilarity("c", c);
  });
  await t.step("a zero vector is an error naming it", () => {
    assert.throws(() => cosineSimilarity([[1, 0], [0, 0]]), {
      name: "RangeError",
      message: /points\[1\]: it is the zero vector/,
    });
  });
});

Deno.test("standardise", async (t) => {
  await t.step("mean 0, population std 1 over all n² entries", () => {
    const s = standardise(negSquaredDistances(POINTS));
    const mean = s.data.reduce((a, b) => a + b, 0) / 16;
    const variance = s.data.reduce((a, b) => a + (b - mean) ** 2, 0) / 16;
    assert.ok(Math.abs(mean) <= 1e-15);
    assert.ok(Math.abs(variance - 1) <= 1e-14);
  });
  await t.step("hand-computed 2 × 2 case (mean −1, std 1)", () => {
    assert.deepEqual(toRows(standardise(matrix([[0, -2], [-2, 0]]))), [[1, -1], [-1, 1]]);
  });
  await t.step("zero spread is a RangeError, never NaN", () => {
    assert.throws(() => standardise(matrix([[3, 3], [3, 3]])), {
      name: "RangeError",
      message: /sigma: it has zero spread \(all 4 entries equal 3\)/,
    });
    assert.throws(() => standardise(matrix([[0]])), { name: "RangeError", message: /zero spread/ });
  });
  await t.step("spread lost to underflow is a RangeError, never Infinity", () => {
    const tiny = Number.MIN_VALUE;
    assert.throws(() => standardise(matrix([[0, tiny], [tiny, 0]])), {
      name: "RangeError",
      message: /sigma: its standard deviation/,
    });
  });
  await t.step("rejects non-similarity input", () => {
    assert.throws(() => standardise(matrix([[0, 1], [2, 0]])), {
      name: "RangeError",
      message: /sigma: not symmetric/,
    });
    assert.throws(() => standardise({ n: 2, data: new Float64Array(3) }), {
      name: "RangeError",
      message: /sigma/,
    });
  });
  await t.step("does not mutate its input", () => {
    const m = matrix([[0, -2], [-2, 0]]);
    standardise(m);
    assert.deepEqual(toRows(m), [[0, -2], [-2, 0]]);
  });
});
