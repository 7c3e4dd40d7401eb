import assert from "node:assert/strict";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  hungarian,
  normalizedMutualInfo,
} from "./metrics.ts";
import { matrix, toRows } from "../core/matrix.ts";

/**
 * Reference values produced once by scikit-learn 1.2.1 / SciPy 1.10.1 (Debian bookworm's
 * python3-sklearn) with `adjusted_rand_score`, `normalized_mutual_info_score` (default
 * arithmetic normalisation) and `linear_sum_assignment`; `random40` is
 * `a = RandomState(0).randint(0, 4, 40)` with 30 % of labels shifted. Reference data, not
 * outputs of this library.
 */
const SKLEARN = {
  small: {
    a: [0, 0, 0, 1, 1, 1],
    b: [0, 0, 1, 1, 2, 2],
    ari: 0.24242424242424243,
    nmi: 0.5158037429793889,
  },
  negative: { a: [0, 0, 1, 1], b: [1, 0, 1, 0], ari: -0.5, nmi: 0 },
  oneVsMany: { a: [0, 0, 0, 0], b: [0, 1, 2, 3], ari: 0, nmi: 0 },
  oneVsTwo: { a: [0, 0, 0, 0], b: [0, 0, 1, 1], ari: 0, nmi: 0 },
  singletons: { a: [0, 1, 2], b: [0, 1, 2], ari: 1, nmi: 1 },
  singleVsSingle: { a: [3, 3, 3], b: [7, 7, 7], ari: 1, nmi: 1 },
  n1: { a: [5], b: [9], ari: 1, nmi: 1 },
  random40: {
    a: [
      0,
      3,
      1,
      0,
      3,
      3,
      3,
      3,
      1,
      3,
      1,
      2,
      0,
      3,
      2,
      0,
      0,
      0,
      2,
      1,
      2,
      3,
      3,
      2,
      0,
      1,
      1,
      1,
      1,
      0,
      1,
      0,
      3,
      0,
      3,
      1,
      2,
      3,
      3,
      0,
    ],
    b: [
      0,
      3,
      1,
      0,
      0,
      3,
      0,
      3,
      1,
      3,
      2,
      2,
      0,
      3,
      3,
      0,
      0,
      0,
      2,
      1,
      2,
      3,
      3,
      0,
      0,
      1,
      0,
      3,
      1,
      0,
      1,
      0,
      3,
      4,
      1,
      0,
      2,
      2,
      3,
      2,
    ],
    ari: 0.33672288212562107,
    nmi: 0.3982039970020335,
  },
} as const;
/** sklearn/scipy: Hungarian accuracy of random40 (a = pred, b = truth). */
const ACC_RANDOM40 = 0.7;

Deno.test("adjustedRandIndex and normalizedMutualInfo match scikit-learn", async (t) => {
  for (const [name, c] of Object.entries(SKLEARN)) {
    await t.step(name, () => {
      // 1e-12: float64 rounding in sums over at most 40 terms; sklearn computes the same formula.
      assert.ok(Math.abs(adjustedRandIndex(c.a, c.b) - c.ari) < 1e-12, `ARI ${name}`);
      assert.ok(Math.abs(adjustedRandIndex(c.b, c.a) - c.ari) < 1e-12, `ARI ${name} swapped`);
      assert.ok(Math.abs(normalizedMutualInfo(c.a, c.b) - c.nmi) < 1e-12, `NMI ${name}`);
      assert.ok(Math.abs(normalizedMutualInfo(c.b, c.a) - c.nmi) < 1e-12, `NMI ${name} swapped`);
    });
  }
});

Deno.test("clusteringAccuracy", async (t) => {
  await t.step("matches SciPy's linear_sum_assignment on the contingency table", () => {
    assert.equal(clusteringAccuracy(SKLEARN.random40.a, SKLEARN.random40.b), ACC_RANDOM40);
  });
  await t.step("more predicted clusters than classes: surplus clusters count as errors", () => {
    // Contingency (rows = pred 0, 1, 2; columns = class 0, 1): [2, 0], [1, 0], [0, 2].
    // Best matching: pred 0 ↔ class 0, pred 2 ↔ class 1 → 4 points; pred 1 stays unmatched.
    assert.equal(clusteringAccuracy([0, 0, 1, 2, 2], [0, 0, 0, 1, 1]), 4 / 5);
  });
  await t.step("fewer predicted clusters than classes", () => {
    assert.equal(clusteringAccuracy([0, 0, 0, 0], [0, 0, 1, 2]), 2 / 4);
  });
  await t.step("Float64Array and Int32Array labels are accepted", () => {
    assert.equal(clusteringAccuracy(new Int32Array([1, 1, 0]), new Float64Array([4, 4, 9])), 1);
  });
});

Deno.test("hungarian", async (t) => {
  await t.step("wide matrix: SciPy's optimal value", () => {
    const cost = [
      [2, 3, 3, 18, 14, 3],
      [17, 18, 14, 9, 1, 4],
      [10, 11, 8, 11, 2, 19],
      [16, 0, 0, 6, 19, 14],
    ];
    const { assignment, cost: value } = hungarian(cost);
    assert.equal(value, 8);
    assert.equal(new Set(assignment).size, 4);
    assert.equal(assignment.reduce((s, j, i) => s + cost[i][j], 0), 8);
  });
  await t.step("tall matrix: SciPy's optimal value, unmatched rows get -1", () => {
    const cost = [[10, 19, 8], [13, 2, 3], [2, 11, 13], [16, 8, 8], [19, 8, 2]];
    const { assignment, cost: value } = hungarian(cost);
    assert.equal(value, 6);
    assert.deepEqual(Array.from(assignment), [-1, 1, 0, -1, 2]);
  });
  await t.step("negative and fractional costs", () => {
    const { assignment, cost } = hungarian([[-1.5, 0.25], [0.5, -2]]);
    assert.deepEqual(Array.from(assignment), [0, 1]);
    assert.equal(cost, -3.5);
  });
  await t.step("1 × 1", () => {
    assert.deepEqual(hungarian([[7]]), { assignment: new Int32Array([0]), cost: 7 });
  });
  await t.step("does not mutate its input", () => {
    const cost = [[3, 1], [1, 3]];
    hungarian(cost);
    assert.deepEqual(cost, [[3, 1], [1, 3]]);
  });
  await t.step("rejects bad input naming the position", () => {
    assert.throws(() => hungarian([]), { name: "RangeError", message: /cost: it has no rows/ });
    assert.throws(() => hungarian([[]]), { name: "RangeError", message: /no columns/ });
    assert.throws(() => hungarian([[1, 2], [3]]), {
      name: "RangeError",
      message: /cost\[1\].*ragged/,
    });
    assert.throws(() => hungarian([[1, NaN]]), {
      name: "RangeError",
      message: /cost\[0\]\[1\] = NaN/,
    });
    assert.throws(() => hungarian([[1, Infinity]]), {
      name: "RangeError",
      message: /cost\[0\]\[1\]/,
    });
    assert.throws(() => hungarian("x" as never), { name: "TypeError", message: /cost/ });
  });
});

Deno.test("connectivityFromLabels and connectivityAccuracy", async (t) => {
  await t.step("M_ij = 1 iff same label, diagonal 1", () => {
    assert.deepEqual(toRows(connectivityFromLabels([2, 0, 2])), [[1, 0, 1], [0, 1, 0], [1, 0, 1]]);
  });
  await t.step(
    "one misplaced point in a batch of 64 gives 0.9937 (notes/reference_facts.md)",
    () => {
      const truth = Array.from({ length: 64 }, (_, i) => i % 10);
      const pred = truth.slice();
      pred[0] = 1;
      const acc = connectivityAccuracy(connectivityFromLabels(pred), connectivityFromLabels(truth));
      // Point 0 leaves a class of 7 and joins one of 7: 2 × (6 + 7) = 26 entries flip out of 4096.
      assert.equal(acc, 1 - 26 / 4096);
      assert.equal(acc.toFixed(4), "0.9937");
    },
  );
  await t.step("soft matrices: 1 − mean absolute difference", () => {
    const pred = matrix([[1, 0.5], [0.5, 1]]);
    const truth = matrix([[1, 0], [0, 1]]);
    assert.equal(connectivityAccuracy(pred, truth), 0.75);
  });
  await t.step("rejects bad input", () => {
    const two = matrix([[1, 0], [0, 1]]);
    assert.throws(
      () => connectivityAccuracy(two, matrix([[1]])),
      { name: "RangeError", message: /truth: size 1 differs from pred's size 2/ },
    );
    assert.throws(
      () => connectivityAccuracy(matrix([[1, 2], [2, 1]]), two),
      { name: "RangeError", message: /pred\[0\]\[1\] = 2.*\[0, 1\]/ },
    );
    assert.throws(
      () => connectivityAccuracy(two, { n: 2, data: new Float64Array([1, NaN, 0, 1]) }),
      { name: "RangeError", message: /truth\[0\]\[1\] = NaN/ },
    );
    assert.throws(() => connectivityAccuracy(null as never, two), {
      name: "TypeError",
      message: /pred/,
    });
  });
});

Deno.test("label validation names the argument", async (t) => {
  await t.step("lengths differ", () => {
    assert.throws(
      () => adjustedRandIndex([0, 1], [0]),
      { name: "RangeError", message: /Invalid b: it has length 1 but a has length 2/ },
    );
    assert.throws(
      () => clusteringAccuracy([0, 1], [0]),
      { name: "RangeError", message: /Invalid truth: it has length 1 but pred has length 2/ },
    );
  });
  await t.step("empty", () => {
    assert.throws(() => normalizedMutualInfo([], []), {
      name: "RangeError",
      message: /Invalid a: it is empty/,
    });
    assert.throws(() => connectivityFromLabels([]), {
      name: "RangeError",
      message: /labels: it is empty/,
    });
  });
  await t.step("non-integer", () => {
    assert.throws(() => adjustedRandIndex([0, 1.5], [0, 1]), {
      name: "RangeError",
      message: /a\[1\] = 1.5/,
    });
    assert.throws(() => normalizedMutualInfo([0, 1], [0, NaN]), {
      name: "RangeError",
      message: /b\[1\] = NaN/,
    });
    assert.throws(
      () => clusteringAccuracy([0, "1"] as never, [0, 1]),
      { name: "RangeError", message: /pred\[1\] = "1"/ },
    );
  });
  await t.step("not array-like", () => {
    assert.throws(() => adjustedRandIndex(3 as never, [0]), {
      name: "TypeError",
      message: /Expected a/,
    });
  });
  await t.step("inputs are not mutated", () => {
    const a = [3, 3, 1], b = [0, 1, 1];
    adjustedRandIndex(a, b);
    normalizedMutualInfo(a, b);
    clusteringAccuracy(a, b);
    assert.deepEqual([a, b], [[3, 3, 1], [0, 1, 1]]);
  });
});
