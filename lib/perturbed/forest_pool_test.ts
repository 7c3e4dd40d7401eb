import assert from "node:assert/strict";
import { matrix } from "../core/matrix.ts";
import { makePerturbed } from "./perturbed.ts";
import { unsafeMaxSpanningForest } from "../forest/spanning_forest.ts";
import {
  constraintsFromLabels,
  unsafeConstrainedSpanningForest,
} from "../constrained/constrained_forest.ts";
import { ForestWorkerPool, runChunk } from "./forest_pool.ts";

// 12 points on a line in 3 loose groups: the noise (ε = 2) changes the forests between samples,
// so equality with the single-threaded path is a real check of the per-sample noise streams.
const x = [0, 1, 2.5, 3, 10, 11, 12.5, 13, 30, 31, 33, 34];
const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2) / 10)));

Deno.test("ForestWorkerPool", async (t) => {
  const pool = ForestWorkerPool.create(2);
  try {
    for (const antithetic of [false, true]) {
      await t.step(`is bit-identical to makePerturbed (antithetic: ${antithetic})`, async () => {
        const opts = {
          k: 3,
          epsilon: 2,
          samples: 11 + (antithetic ? 1 : 0),
          noise: "gaussian" as const,
          antithetic,
        };
        const single = makePerturbed((s) => unsafeMaxSpanningForest(s, 3), opts)(sigma, 5);
        assert.deepEqual(await pool.perturbed(sigma, opts, 5), single);
        // The estimate is not constant across samples (else the check above could not fail).
        assert.ok(single.adjacency.data.some((v) => v > 0 && v < 1));
      });
    }
    await t.step("runs the constrained solver and concurrent estimates", async () => {
      const constraints = constraintsFromLabels([
        0,
        null,
        null,
        null,
        1,
        null,
        null,
        null,
        2,
        null,
        null,
        null,
      ]);
      const opts = { k: 3, epsilon: 2, samples: 9, noise: "gumbel" as const };
      const single = makePerturbed((s) => unsafeConstrainedSpanningForest(s, 3, constraints), opts);
      const [a, b] = await Promise.all([
        pool.perturbed(sigma, { ...opts, constraints }, 1),
        pool.perturbed(sigma, { ...opts, constraints }, 2),
      ]);
      assert.deepEqual(a, single(sigma, 1));
      assert.deepEqual(b, single(sigma, 2));
    });
    await t.step("reports bad input and worker failures", async () => {
      const opts = { k: 3, epsilon: 1, samples: 4, noise: "gaussian" as const };
      await assert.rejects(() => pool.perturbed(sigma, { ...opts, k: 13 }, 1), /Invalid k = 13/);
      await assert.rejects(() => pool.perturbed(sigma, opts, 1.5), /seed/);
      // Four mutually cannot-linked points cannot form 3 clusters: the worker's error comes back.
      const c = constraintsFromLabels([0, 1, 2, 3, null, null, null, null, null, null, null, null]);
      await assert.rejects(
        () => pool.perturbed(sigma, { ...opts, constraints: c }, 1),
        /mutually cannot-linked/,
      );
      assert.throws(() => ForestWorkerPool.create(0), /Invalid size = 0/);
    });
  } finally {
    pool.terminate();
  }
});

/** A chunk request on `sigma` without its range. */
const chunkOf = (epsilon: number, antithetic: boolean, seed: number) => ({
  id: 0,
  n: sigma.n,
  sigma: sigma.data,
  k: 2,
  constraints: null,
  epsilon,
  noise: "gaussian" as const,
  antithetic,
  seed,
});

Deno.test("runChunk splits like the whole run", () => {
  const base = chunkOf(1, false, 3);
  const whole = runChunk({ ...base, lo: 0, hi: 6 });
  const left = runChunk({ ...base, lo: 0, hi: 2 }), right = runChunk({ ...base, lo: 2, hi: 6 });
  assert.deepEqual([...whole.values], [...left.values, ...right.values]);
  assert.deepEqual([...whole.adjacency], [...left.adjacency].map((v, t) => v + right.adjacency[t]));
});

Deno.test("runChunk starting inside an antithetic pair draws the pair's noise", () => {
  const base = chunkOf(2, true, 4);
  // Sample 1 is −Z_0: a chunk starting there must draw Z_0 itself, not start from zeros.
  const whole = runChunk({ ...base, lo: 0, hi: 4 }), tail = runChunk({ ...base, lo: 1, hi: 4 });
  assert.deepEqual([...tail.values], [...whole.values].slice(1));
});
