/** Cost of one loss evaluation at the paper's batch size (n = 64, k = 10, 100 samples). */
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import { constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { fyLoss, partialFyLoss } from "../lib/losses/fy_loss.ts";
import { makePerturbed } from "../lib/perturbed/perturbed.ts";
import { fillUpperNoise } from "../lib/core/noise.ts";
import { maxSpanningForest, unsafeMaxSpanningForest } from "../lib/forest/spanning_forest.ts";
import { standardNormal, streamFor } from "../lib/core/random.ts";

const n = 64, k = 10, rng = streamFor(9);
// Ten blobs in the plane, Σ = −‖x_i − x_j‖², standardised.
const points = Array.from(
  { length: n },
  (_, i) => [standardNormal(rng) + (i % 10) * 3, standardNormal(rng)],
);
const raw = new Float64Array(n * n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    raw[i * n + j] = -((points[i][0] - points[j][0]) ** 2 + (points[i][1] - points[j][1]) ** 2);
  }
}
const mean = raw.reduce((s, v) => s + v, 0) / raw.length;
const sd = Math.sqrt(raw.reduce((s, v) => s + (v - mean) ** 2, 0) / raw.length);
const sigma: Matrix = fromData(n, raw.map((v) => (v - mean) / sd));
// Semi-supervised batch as in the paper: 32 labelled + 32 unlabelled; and fully labelled.
const half = constraintsFromLabels(Array.from({ length: n }, (_, i) => (i < 32 ? i % 10 : null)));
const full = constraintsFromLabels(Array.from({ length: n }, (_, i) => i % 10));
const opts = { k, epsilon: 0.1, samples: 100, noise: "gaussian" as const };
const target = maxSpanningForest(sigma, k).adjacency;
const partial = partialFyLoss(opts), fy = fyLoss(opts);
const perturbed = makePerturbed((s) => unsafeMaxSpanningForest(s, k), opts);
const z = new Float64Array((n * (n - 1)) / 2);

Deno.bench({
  name: "partialFyLoss, 32 labelled + 32 unlabelled",
  group: "loss n=64",
  fn: () => void partial(sigma, half, 1),
});
Deno.bench({
  name: "partialFyLoss, fully labelled",
  group: "loss n=64",
  fn: () => void partial(sigma, full, 1),
});
Deno.bench({
  name: "fyLoss",
  group: "loss n=64",
  baseline: true,
  fn: () => void fy(sigma, target, 1),
});
Deno.bench({
  name: "makePerturbed (unconstrained)",
  group: "loss n=64",
  fn: () => void perturbed(sigma, 1),
});
Deno.bench({
  name: "100 × unconstrained solve",
  group: "parts n=64",
  fn: () => {
    for (let b = 0; b < 100; b++) unsafeMaxSpanningForest(sigma, k);
  },
});
Deno.bench({
  name: "100 × noise draw (2016 normals)",
  group: "parts n=64",
  fn: () => {
    for (let b = 0; b < 100; b++) fillUpperNoise("gaussian", 1, b, z);
  },
});
