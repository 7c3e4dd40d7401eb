/**
 * Monte-Carlo estimate (Definition 6, 32 Gaussian samples, k = 10) on one thread vs a pool of
 * two workers (this machine has 2 cores). Both give bit-identical results (lib/perturbed/forest_pool_test.ts).
 *
 *     deno bench -A bench/workers_bench.ts
 */
import { negSquaredDistanceMatrix, randomPoints } from "./inputs.ts";
import { ForestWorkerPool } from "../lib/perturbed/forest_pool.ts";
import { makePerturbed } from "../lib/perturbed/perturbed.ts";
import { unsafeMaxSpanningForest } from "../lib/forest/spanning_forest.ts";

const pool = ForestWorkerPool.create(2);
const opts = { k: 10, epsilon: 0.1, samples: 32, noise: "gaussian" as const };
const single = makePerturbed((s) => unsafeMaxSpanningForest(s, 10), opts);
for (const n of [256, 1024]) {
  const sigma = negSquaredDistanceMatrix(randomPoints(n, 8, n), 8);
  const group = `perturbed n=${n} × 32 samples`;
  const iters = n >= 1024 ? { n: 5, warmup: 1 } : { n: 20, warmup: 2 };
  Deno.bench({
    name: "single thread (makePerturbed)",
    group,
    baseline: true,
    ...iters,
    fn: () => void single(sigma, 1),
  });
  Deno.bench({
    name: "ForestWorkerPool, 2 workers",
    group,
    ...iters,
    fn: async () => void await pool.perturbed(sigma, opts, 1),
  });
}
// Let the process exit once the benchmarks are done.
globalThis.addEventListener("unload", () => pool.terminate());
