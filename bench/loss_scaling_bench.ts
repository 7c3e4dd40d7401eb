/**
 * Perturbed partial Fenchel–Young loss + gradient (Proposition 1) as the batch and the number of
 * Monte-Carlo samples grow: batch n ∈ {32, 64, 128} at 100 samples, and samples ∈ {10, 100, 1000}
 * at n = 64; half of each batch labelled (10 classes), k = 10, ε = 0.1, Gaussian noise. The
 * baseline of each group is the unconstrained perturbed estimate (makePerturbed) at the same size.
 * The group "target" is the performance target itself: n = 64, k = 10, 100 samples, Gaussian
 * noise, label-derived constraints with every point labelled and with half of them labelled
 * (aim: ≤ 3 ms per call).
 *
 *     deno bench -A bench/loss_scaling_bench.ts
 */
import { negSquaredDistanceMatrix, partialLabels, randomPoints } from "./inputs.ts";
import { constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { partialFyLoss } from "../lib/losses/fy_loss.ts";
import { makePerturbed } from "../lib/perturbed/perturbed.ts";
import { unsafeMaxSpanningForest } from "../lib/forest/spanning_forest.ts";

const K = 10;
const cases = [
  ...[32, 64, 128].map((n) => ({ n, samples: 100, group: "loss vs batch (100 samples)" })),
  ...[10, 100, 1000].map((samples) => ({ n: 64, samples, group: "loss vs samples (n = 64)" })),
];
for (const { n, samples, group } of cases) {
  const sigma = negSquaredDistanceMatrix(randomPoints(n, 8, n), 8);
  const c = constraintsFromLabels(partialLabels(n, n / 2, K));
  const opts = { k: K, epsilon: 0.1, samples, noise: "gaussian" as const };
  const loss = partialFyLoss(opts);
  const perturbed = makePerturbed((s) => unsafeMaxSpanningForest(s, K), opts);
  const iters = samples >= 1000 || n >= 128 ? { n: 10, warmup: 2 } : {};
  Deno.bench({
    name: `partialFyLoss n=${n}, ${samples} samples (${group.split(" (")[0]})`,
    group: `${group}`,
    ...iters,
    fn: () => void loss(sigma, c, 1),
  });
  Deno.bench({
    name: `makePerturbed n=${n}, ${samples} samples (${group.split(" (")[0]})`,
    group: `${group}`,
    baseline: n === 64 && samples === 100,
    ...iters,
    fn: () => void perturbed(sigma, 1),
  });
}

{
  const n = 64, samples = 100;
  const sigma = negSquaredDistanceMatrix(randomPoints(n, 8, n), 8);
  const loss = partialFyLoss({ k: K, epsilon: 0.1, samples, noise: "gaussian" });
  for (const labelled of [n, n / 2]) {
    const c = constraintsFromLabels(partialLabels(n, labelled, K));
    Deno.bench({
      name: `partialFyLoss n=64, k=10, 100 samples, ${labelled === n ? "all" : "half"} labelled`,
      group: "target (≤ 3 ms)",
      baseline: labelled === n,
      fn: () => void loss(sigma, c, 1),
    });
  }
}
