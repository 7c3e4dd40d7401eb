import assert from "node:assert/strict";
import { matrix } from "./matrix.ts";
import { addScaledUpperNoise, fillUpperNoise, noiseScore, symmetricNoise } from "./noise.ts";

Deno.test("noise", async (t) => {
  await t.step("symmetric, zero diagonal, equal to the per-sample upper draws", () => {
    const z = symmetricNoise("gumbel", 4, 9, 3);
    const upper = fillUpperNoise("gumbel", 9, 3, new Float64Array(6));
    assert.deepEqual([z.data[1], z.data[2], z.data[3], z.data[6], z.data[7], z.data[11]], [
      ...upper,
    ]);
    for (let i = 0; i < 4; i++) {
      assert.equal(z.data[i * 5], 0);
      for (let j = 0; j < 4; j++) assert.equal(z.data[i * 4 + j], z.data[j * 4 + i]);
    }
  });
  await t.step("unknown noise names are named", () => {
    // @ts-expect-error: runtime check
    assert.throws(() => symmetricNoise("uniform", 3, 0), /Invalid noise = "uniform"/);
    assert.throws(() => symmetricNoise("gaussian", 0, 0), /Invalid n = 0/);
  });
  await t.step("Σ + εZ keeps Σ's diagonal and is exactly symmetric", () => {
    const out = addScaledUpperNoise(
      matrix([[5, 1, 2], [1, 6, 3], [2, 3, 7]]),
      2,
      new Float64Array([1, 0, -1]),
      new Float64Array(9),
    );
    assert.deepEqual([...out], [5, 3, 2, 3, 6, 1, 2, 1, 7]);
  });
  await t.step("the Gumbel score 1 − e^{−z} has mean zero", () => {
    const z = fillUpperNoise("gumbel", 4, 0, new Float64Array(200_000));
    const s = noiseScore("gumbel", z, new Float64Array(z.length));
    // Var(1 − e^{−Z}) = Var(Exp(1)) = 1, so SE = 1/√N ≈ 0.0022; 5 SE.
    assert.ok(Math.abs(s.reduce((a, v) => a + v, 0) / s.length) < 0.012);
  });
});
