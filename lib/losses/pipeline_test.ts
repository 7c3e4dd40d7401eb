import assert from "node:assert/strict";
import { E } from "../deps/fp.ts";
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

Deno.test("pipeline gradient with respect to the points", async (t) => {
  await t.step("matches central finite differences of the loss (same seed, fixed noise)", () => {
    // With the seed fixed, the estimated loss is piecewise linear in Σ (finitely many forests),
    // and Σ is smooth in the points, so a small step stays on one piece and the directional
    // finite difference equals ⟨gradPoints, direction⟩ up to rounding.
    const decoded = decodePipelineConfig({ k: 2, epsilon: 0.3, samples: 50 });
    if (decoded._tag === "Left") throw new Error(decoded.left.join("; "));
    const run = partialLossPipeline(decoded.right)([0, 0, 1, null, 1], 3);
    const x = [[0.1, 0.3], [0.9, -0.2], [2.0, 1.1], [1.4, 0.2], [2.7, 0.8]];
    const dir = [[0.3, -0.1], [-0.2, 0.5], [0.1, 0.1], [-0.4, 0.2], [0.2, -0.3]];
    const { gradPoints } = run(x);
    if (gradPoints === null) throw new Error("expected a gradient");
    const h = 1e-6;
    const at = (s: number) => run(x.map((p, i) => p.map((v, c) => v + s * dir[i][c]))).loss;
    const fd = (at(h) - at(-h)) / (2 * h);
    const analytic = gradPoints.reduce((s, g, i) => s + g[0] * dir[i][0] + g[1] * dir[i][1], 0);
    assert.ok(
      Math.abs(fd - analytic) <= 1e-5 * Math.max(1, Math.abs(analytic)),
      `${fd} vs ${analytic}`,
    );
    assert.ok(Math.abs(analytic) > 1e-3, "direction should not be degenerate");
  });
});
