/**
 * Log-domain Sinkhorn on squared-Euclidean costs between n Gaussian points (d = 2) and k = 10
 * k-means++ centroids, ε = 0.1 × the mean cost, tol 1e-6 (the OT k-means assignment step).
 * Setup runs outside the measured functions. Run: `deno bench -A bench/sinkhorn_bench.ts`.
 */
import { kMeansPlusPlus } from "../lib/ot/kmeans.ts";
import { standardNormal, streamFor } from "../lib/core/random.ts";
import { rectFromData } from "../lib/core/rect_matrix.ts";
import { sinkhorn, squaredEuclideanCost } from "../lib/ot/sinkhorn.ts";

const K = 10;

for (const n of [64, 256, 1024]) {
  const rng = streamFor(n);
  const coords = new Float64Array(n * 2);
  for (let t = 0; t < coords.length; t++) coords[t] = standardNormal(rng) + (t % 4 === 0 ? 3 : 0);
  const points = rectFromData(n, 2, coords);
  const cost = squaredEuclideanCost(points, kMeansPlusPlus(points, K, 1));
  const meanCost = cost.data.reduce((s, v) => s + v, 0) / cost.data.length;
  const a = new Float64Array(n).fill(1 / n), b = new Float64Array(K).fill(1 / K);
  const options = { epsilon: 0.1 * meanCost, tol: 1e-6, maxIters: 100_000 };
  Deno.bench({
    name: `sinkhorn n = ${n}, k = ${K}`,
    group: "sinkhorn",
    baseline: n === 64,
    fn: () => {
      sinkhorn(cost, a, b, options);
    },
  });
}
