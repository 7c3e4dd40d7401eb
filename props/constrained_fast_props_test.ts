/**
 * Properties of the O(n²) constrained solver (contracted Prim + moves) that the brute-force
 * suite does not pin: never below the reference greedy of the paper's code, at any size, and
 * correct when a constraints matrix is edited in place between calls (its cached structure).
 */
import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import { fromData } from "../lib/core/matrix.ts";
import {
  constrainedSpanningForest,
  constraintsFromLabels,
} from "../lib/constrained/constrained_forest.ts";
import { referenceGreedy, respects } from "./brute_force.ts";

/** Points on a line or in the plane give Σ = −‖·‖²; integer coordinates give many ties. */
const instance = fc.integer({ min: 2, max: 14 }).chain((n) =>
  fc.record({
    x: fc.array(
      fc.tuple(fc.integer({ min: -9, max: 9 }), fc.double({ min: -3, max: 3, noNaN: true })),
      {
        minLength: n,
        maxLength: n,
      },
    ),
    labels: fc.array(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 })), {
      minLength: n,
      maxLength: n,
    }),
    extra: fc.integer({ min: 0, max: n }),
  })
);

function setUp(
  { x, labels, extra }: { x: [number, number][]; labels: (number | null)[]; extra: number },
) {
  const n = x.length, data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      data[i * n + j] = -((x[i][0] - x[j][0]) ** 2 + (x[i][1] - x[j][1]) ** 2);
    }
  }
  const classes = new Set(labels.filter((l) => l !== null)).size;
  const free = labels.filter((l) => l === null).length;
  const k = Math.min(Math.max(1, classes) + (extra % (free + 1)), n);
  return { sigma: fromData(n, data), c: constraintsFromLabels(labels), k, classes, free };
}

Deno.test("fast constrained solver", async (t) => {
  await t.step("is feasible and never below the reference greedy (label-derived M_Ω)", () => {
    fc.assert(
      fc.property(instance, (input) => {
        const { sigma, c, k, classes, free } = setUp(input);
        if (k < classes || k > classes + free) return; // infeasible k: covered elsewhere
        const f = constrainedSpanningForest(sigma, k, c);
        assert.ok(respects(c, f.labels));
        assert.equal(f.k, k);
        const reference = referenceGreedy(sigma, k, c);
        assert.ok(
          f.value >= reference - 1e-9 * Math.max(1, Math.abs(reference)),
          `${f.value} < ${reference}`,
        );
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  await t.step("sees in-place edits of the constraints between calls", () => {
    const x = [0, 1, 2, 10, 11, 12];
    const sigma = fromData(
      6,
      new Float64Array(36).map((_, t) => -((x[t % 6] - x[Math.floor(t / 6)]) ** 2)),
    );
    const c = constraintsFromLabels([0, null, null, null, null, 1]);
    assert.deepEqual([...constrainedSpanningForest(sigma, 2, c).labels], [0, 0, 0, 1, 1, 1]);
    // Now points 2 and 5 must be together (and apart from 0): the answer must change.
    const edited = constraintsFromLabels([0, null, 1, null, null, 1]);
    c.data.set(edited.data);
    const f = constrainedSpanningForest(sigma, 2, c);
    assert.ok(respects(c, f.labels));
    assert.equal(f.labels[2], f.labels[5]);
  });
});
