import assert from "node:assert/strict";
import { calibration } from "./calibration.ts";
import { streamFor, uniformOpen01 } from "../lib/core/random.ts";

Deno.test("calibration: a hand-computed table", () => {
  // Points: (0.9 right), (0.9 wrong), (0.6 right), (1.0 right), (outlier truth −1 at 0.5).
  const p = [0.9, 0.1, 0.1, 0.9, 0.6, 0.4, 0, 1, 0.5, 0.3];
  const c = calibration(p, 2, [0, 0, 0, 1, -1], 5);
  // Bins of width 0.2: [0.4, 0.6) holds 0.5 (wrong); [0.6, 0.8) holds 0.6 (right);
  // [0.8, 1] holds 0.9, 0.9, 1.0 (two right).
  assert.deepEqual(c.bins.map((b) => b.count), [0, 0, 1, 1, 3]);
  assert.ok(Number.isNaN(c.bins[0].accuracy) && Number.isNaN(c.bins[0].confidence));
  const ece = (1 / 5) * 0.5 + (1 / 5) * 0.4 + (3 / 5) * Math.abs(2 / 3 - 2.8 / 3);
  assert.ok(Math.abs(c.ece - ece) < 1e-12, `${c.ece} vs ${ece}`);
  assert.equal(c.accuracy, 3 / 5);
  assert.equal(c.meanLogLikelihood, -Infinity);
});

Deno.test("calibration: ECE equals a per-bin filter of the same points (random inputs)", () => {
  const rng = streamFor(3);
  for (let trial = 0; trial < 20; trial++) {
    const n = 200, k = 4, bins = 1 + (trial % 12);
    const p = new Float64Array(n * k), truth = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let c = 0; c < k; c++) total += p[i * k + c] = uniformOpen01(rng);
      const keep = uniformOpen01(rng); // rows sum to keep ≤ 1 (the rest: outlier)
      for (let c = 0; c < k; c++) p[i * k + c] *= keep / total;
      truth[i] = Math.floor(uniformOpen01(rng) * (k + 1)) - 1;
    }
    const top = Array.from({ length: n }, (_, i) => {
      const row = Array.from(p.subarray(i * k, i * k + k));
      const best = row.indexOf(Math.max(...row));
      return { conf: row[best], ok: best === truth[i] };
    });
    let expected = 0;
    for (let b = 0; b < bins; b++) {
      const inBin = top.filter((t) =>
        t.conf >= b / bins && (t.conf < (b + 1) / bins || (b === bins - 1 && t.conf <= 1))
      );
      if (inBin.length === 0) continue;
      const acc = inBin.filter((t) => t.ok).length / inBin.length;
      const conf = inBin.reduce((s, t) => s + t.conf, 0) / inBin.length;
      expected += (inBin.length / n) * Math.abs(acc - conf);
    }
    const got = calibration(p, k, truth, bins);
    assert.ok(Math.abs(got.ece - expected) < 1e-12, `trial ${trial}: ${got.ece} vs ${expected}`);
    assert.equal(got.bins.reduce((s, b) => s + b.count, 0), n);
  }
});

Deno.test("calibration: probabilities drawn to be right with their own confidence give a small ECE", () => {
  // Confidence u ~ U(0.5, 1), right with probability u: calibrated by construction. The 20 000
  // points fall in 5 of the 10 bins, ≈ 4000 each; a bin's accuracy has sd ≤ 0.5/√4000 ≈ 0.008
  // about its mean confidence, so E[ECE] ≤ 0.008·√(2/π) ≈ 0.0063 and 0.05 is over 5 sd away (a
  // false alarm below 1e-6). Right with probability u − 0.2 instead: ECE ≈ 0.2.
  const rng = streamFor(11);
  const n = 20_000;
  const p = new Float64Array(2 * n), truth = new Int32Array(n), shifted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 0.5 + 0.5 * uniformOpen01(rng);
    p[2 * i] = u;
    p[2 * i + 1] = 1 - u;
    const r = uniformOpen01(rng);
    truth[i] = r < u ? 0 : 1;
    shifted[i] = r < u - 0.2 ? 0 : 1;
  }
  assert.ok(calibration(p, 2, truth).ece < 0.05);
  assert.ok(Math.abs(calibration(p, 2, shifted).ece - 0.2) < 0.05);
});

Deno.test("calibration: bad input is refused, naming it", () => {
  assert.throws(() => calibration([0.5, 0.5], 2, [0, 1]), /2 values for 2 points/);
  assert.throws(() => calibration([0.5, 0.6], 2, [0]), /sum to 1.1/);
  assert.throws(() => calibration([NaN, 0.5], 2, [0]), /point 0, class 0: NaN/);
  assert.throws(() => calibration([0.5, 0.5], 2, [2]), /truth\[0\] = 2/);
  assert.throws(() => calibration([0.5, 0.5], 2, [0], 0), /bins = 0/);
});
