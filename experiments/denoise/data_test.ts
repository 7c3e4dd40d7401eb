import assert from "node:assert/strict";
import { adjustedRandIndex } from "../../lib/metrics/metrics.ts";
import { denoiseData, type DenoiseDataOptions, PAPER_MEANS } from "./data.ts";

const PAPER: DenoiseDataOptions = {
  means: PAPER_MEANS,
  pointsPerCluster: 15,
  std: 0.2,
  noiseColumns: 2,
  k: 4,
};

Deno.test("denoiseData", async (t) => {
  await t.step("signal columns are the signal, noise columns lie in [0, 1]", () => {
    const d = denoiseData(PAPER, 3);
    assert.equal(d.signal.length, 60);
    d.features.forEach((row, i) => {
      assert.deepEqual(row.slice(0, 2), d.signal[i]);
      assert.ok(row.slice(2).every((v) => v > 0 && v < 1));
    });
  });

  await t.step("blob sample means lie near the given means", () => {
    const d = denoiseData(PAPER, 4);
    PAPER_MEANS.forEach((m, c) => {
      const pts = d.signal.filter((_, i) => d.blob[i] === c);
      assert.equal(pts.length, 15);
      for (const a of [0, 1]) {
        const avg: number = pts.reduce((s, p) => s + p[a], 0) / pts.length;
        // Standard error 0.2/√15 ≈ 0.052; 5 SE.
        assert.ok(Math.abs(avg - m[a]) < 0.26, `blob ${c} axis ${a}: ${avg}`);
      }
    });
  });

  await t.step("the target M*_4(Σ_signal) recovers the well-separated blobs", () => {
    assert.equal(adjustedRandIndex(denoiseData(PAPER, 5).target, denoiseData(PAPER, 5).blob), 1);
  });

  await t.step("same seed, same data; another seed, other data", () => {
    assert.deepEqual(denoiseData(PAPER, 6), denoiseData(PAPER, 6));
    assert.notDeepEqual(denoiseData(PAPER, 6).features, denoiseData(PAPER, 7).features);
  });

  await t.step("invalid options are named", () => {
    assert.throws(() => denoiseData({ ...PAPER, means: [[0, 1, 2]] }, 0), /Invalid means\[0\]/);
    assert.throws(() => denoiseData({ ...PAPER, pointsPerCluster: 0 }, 0), /pointsPerCluster/);
    assert.throws(() => denoiseData({ ...PAPER, std: -1 }, 0), /Invalid std = -1/);
  });
});
