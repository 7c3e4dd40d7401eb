import assert from "node:assert/strict";
import { matrix } from "./matrix.ts";
import { makePerturbed } from "./perturbed.ts";
import { maxSpanningForest } from "./spanning_forest.ts";

const sigma = matrix([[0, 1, -1], [1, 0, 0.5], [-1, 0.5, 0]]);
const solver = (s: typeof sigma) => maxSpanningForest(s, 2);

Deno.test("makePerturbed", async (t) => {
  await t.step("rejects bad options, sigma and seed with named errors", () => {
    const base = { epsilon: 1, samples: 4, noise: "gaussian" as const };
    assert.throws(() => makePerturbed(solver, { ...base, epsilon: -1 }), /Invalid epsilon = -1/);
    assert.throws(() => makePerturbed(solver, { ...base, samples: -2 }), /Invalid samples = -2/);
    // @ts-expect-error: runtime check of the noise name
    assert.throws(() => makePerturbed(solver, { ...base, noise: "normal" }), /Invalid noise/);
    // @ts-expect-error: runtime check of the solver
    assert.throws(() => makePerturbed(null, base), /Expected solver/);
    const p = makePerturbed(solver, base);
    assert.throws(() => p(matrix([[0, 1], [2, 0]]), 0), /not symmetric/);
    assert.throws(() => p(sigma, 2 ** 40), /Invalid seed/);
  });
  await t.step("value is the mean of ⟨A*, Σ + εZ_b⟩ and not the unperturbed F", () => {
    const p = makePerturbed(solver, { epsilon: 1, samples: 8, noise: "gaussian" });
    const { value, adjacency } = p(sigma, 1);
    assert.notEqual(value, maxSpanningForest(sigma, 2).value);
    assert.ok(Number.isFinite(value));
    assert.equal(adjacency.data.reduce((s, v) => s + v, 0), 2); // one edge per sample, ×2
  });
  await t.step("samples are independent of the total count (per-sample streams)", () => {
    // F̂ with B = 2 is the mean of samples 0 and 1, which are also the first two of B = 4.
    const values = [1, 2].map((B) =>
      makePerturbed((s) => maxSpanningForest(s, 1), { epsilon: 1, samples: B, noise: "gumbel" })(
        sigma,
        5,
      ).value
    );
    const first = makePerturbed((s) => maxSpanningForest(s, 1), {
      epsilon: 1,
      samples: 1,
      noise: "gumbel",
    })(sigma, 5).value;
    assert.equal(values[0], first);
    assert.notEqual(values[1], first);
  });
});

Deno.test("makePerturbed accepts the solver and k separately, or says how", () => {
  const x = [0, 1, 10, 11, 20];
  const sigma = matrix(x.map((a) => x.map((b) => -Math.abs(a - b))));
  const opts = { epsilon: 0.5, samples: 20, noise: "gaussian" } as const;
  const bound = makePerturbed((s) => maxSpanningForest(s, 2), opts)(sigma, 3);
  const separate = makePerturbed(maxSpanningForest, { ...opts, k: 2 })(sigma, 3);
  assert.deepEqual(separate, bound);
  // What users first try: the solver with no k (it said "Expected k to be a number").
  assert.throws(
    () => makePerturbed(maxSpanningForest as never, opts),
    /takes \(sigma, k\) but no k: pass \{ k \} in the options/,
  );
  // A solver with k bound ignores a k in shared options.
  assert.deepEqual(
    makePerturbed((s) => maxSpanningForest(s, 2), { ...opts, k: 5 })(sigma, 3),
    bound,
  );
  assert.throws(() => makePerturbed(maxSpanningForest, { ...opts, k: 0 }), /Invalid k = 0/);
});
