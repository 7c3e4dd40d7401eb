import assert from "node:assert/strict";
import { E } from "./deps/fp.ts";
import { decodePipelineConfig, partialLossPipeline } from "./pipeline.ts";

Deno.test("pipeline", async (t) => {
  await t.step("one decoder, messages naming each bad option", () => {
    const bad = decodePipelineConfig({ k: 0, epsilon: "1", samples: 10, similarity: "l1" });
    assert.ok(E.isLeft(bad));
    assert.equal(bad.left.length, 3);
    assert.match(bad.left.join("\n"), /Invalid k = 0/);
    assert.match(bad.left.join("\n"), /Invalid epsilon = "1"/);
    assert.match(bad.left.join("\n"), /Invalid similarity = "l1"/);
    const anti = decodePipelineConfig({ k: 2, epsilon: 1, samples: 3, antithetic: true });
    assert.ok(E.isLeft(anti) && /Invalid samples = 3/.test(anti.left[0]));
    const notObject = decodePipelineConfig(null);
    assert.ok(E.isLeft(notObject));
  });
  await t.step("pipeline is pure and deterministic", () => {
    const config = decodePipelineConfig({ k: 2, epsilon: 0.1, samples: 10 });
    assert.ok(E.isRight(config));
    const points = [[0, 0], [0, 1], [5, 5], [5, 6]];
    const run = partialLossPipeline(config.right)([0, null, 1, null], 3);
    const a = run(points), b = run(points);
    assert.equal(a.loss, b.loss);
    assert.equal(a.loss, 0); // labels agree with the geometry
    assert.deepEqual(points, [[0, 0], [0, 1], [5, 5], [5, 6]]);
  });
});
