import assert from "node:assert/strict";
import { fillGumbel, fillStandardNormal, streamUnchecked } from "./random.ts";
import { fillGumbelFromSeed, fillStandardNormalFromSeed } from "./_random_kernels.ts";

Deno.test("random kernels", async (t) => {
  await t.step("seeded fills are bit-identical to the stream-based fills", () => {
    // 20 000 normals per stream reach the ziggurat's tail and wedge paths many times.
    for (const [seed, index] of [[0, 0], [1, 5], [-7, 99], [0xffffffff, 3], [-0x80000000, 1]]) {
      const a = fillStandardNormal(streamUnchecked(seed, index), new Float64Array(20_000));
      assert.deepEqual(fillStandardNormalFromSeed(seed, index, new Float64Array(20_000)), a);
      const g = fillGumbel(streamUnchecked(seed, index), new Float64Array(1_000));
      assert.deepEqual(fillGumbelFromSeed(seed, index, new Float64Array(1_000)), g);
    }
  });
});
