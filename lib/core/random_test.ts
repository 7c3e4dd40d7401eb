import assert from "node:assert/strict";
import { fillGumbel, fillStandardNormal, foldIn, standardNormal, streamFor } from "./random.ts";

Deno.test("random", async (t) => {
  await t.step("streams are reproducible and distinct", () => {
    const a = fillStandardNormal(streamFor(1, 2), new Float64Array(8));
    assert.deepEqual(a, fillStandardNormal(streamFor(1, 2), new Float64Array(8)));
    assert.notDeepEqual(a, fillStandardNormal(streamFor(1, 3), new Float64Array(8)));
    assert.notDeepEqual(a, fillStandardNormal(streamFor(2, 2), new Float64Array(8)));
    assert.notEqual(foldIn(0, 0), foldIn(0, 1));
  });
  await t.step("bad seeds are named", () => {
    assert.throws(() => streamFor(1.5), /Invalid seed = 1.5/);
    assert.throws(() => streamFor(0, -(2 ** 40)), /Invalid index/);
    assert.throws(() => fillGumbel(streamFor(0), new Float64Array(2), 1, 5), /Invalid length = 5/);
  });
  await t.step("normal tail and quantiles (ziggurat incl. the slow path)", () => {
    // N = 400 000: P(|Z| > 3) = 0.0027 → expected 1080, sd ≈ 33; P(Z < −1) = 0.1587, sd of the
    // frequency ≈ 5.8e-4. 5-sigma tolerances.
    const N = 400_000, rng = streamFor(123);
    let tail = 0, below = 0, sum = 0;
    for (let i = 0; i < N; i++) {
      const z = standardNormal(rng);
      if (Math.abs(z) > 3) tail++;
      if (z < -1) below++;
      sum += z;
    }
    assert.ok(Math.abs(tail - 1080) < 5 * 33, `tail ${tail}`);
    assert.ok(Math.abs(below / N - 0.158655) < 5 * 5.8e-4, `below ${below / N}`);
    assert.ok(Math.abs(sum / N) < 5 / Math.sqrt(N));
  });
});
