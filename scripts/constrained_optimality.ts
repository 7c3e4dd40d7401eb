/**
 * Measures how often the fast constrained solver reaches the exact optimum of Definition 5 on
 * random instances with partially labelled points (Σ = −‖x_i − x_j‖², points uniform in [0, 1]²).
 *
 *     deno run scripts/constrained_optimality.ts [trials=2000] [n=8] [min-rate-percent]
 *
 * With a third argument it exits with status 1 when the rate is below it (e.g. the rate in
 * docs/constrained.md minus a margin); `lib/constrained/constrained_general_test.ts` asserts
 * the n = 6 rate.
 */
import {
  constrainedSpanningForest,
  constraintsFromLabels,
  exactConstrainedSpanningForest,
} from "../lib/constrained/constrained_forest.ts";
import { matrix } from "../lib/core/matrix.ts";
import { prand } from "../lib/deps/rand.ts";

const trials = Number(Deno.args[0] ?? 2000), n = Number(Deno.args[1] ?? 8);
const minRate = Deno.args[2] === undefined ? null : Number(Deno.args[2]);
if (!(trials >= 1) || !(n >= 2) || (minRate !== null && !Number.isFinite(minRate))) {
  console.error(
    `Invalid arguments ${
      JSON.stringify(Deno.args)
    }: expected [trials ≥ 1] [n ≥ 2] [min-rate-percent]`,
  );
  Deno.exit(2);
}
let rng = prand.xoroshiro128plus(7);
const uniform = () => {
  const [v, next] = prand.uniformIntDistribution(0, 1e9, rng);
  rng = next;
  return v / 1e9;
};
let optimal = 0, worst = 0, counted = 0;
let example: unknown = null;
for (let t = 0; t < trials; t++) {
  const x = Array.from({ length: n }, () => [uniform(), uniform()]);
  const sigma = matrix(x.map((p) => x.map((q) => -((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2))));
  const classes = 2 + Math.floor(uniform() * 2);
  const labels = x.map(() => (uniform() < 0.5 ? null : Math.floor(uniform() * classes)));
  const present = new Set(labels.filter((l) => l !== null)).size;
  const free = labels.filter((l) => l === null).length;
  const k = Math.max(1, present) + Math.floor(uniform() * (free + 1));
  if (k > n) continue;
  const c = constraintsFromLabels(labels);
  const exact = exactConstrainedSpanningForest(sigma, k, c).value;
  const fast = constrainedSpanningForest(sigma, k, c).value;
  counted++;
  const gap = (exact - fast) / Math.abs(exact || 1);
  if (gap <= 1e-9) optimal++;
  else if (gap > worst) {
    worst = gap;
    example = { x, labels, k, exact, fast };
  }
}
console.log(
  `n = ${n}, ${counted} instances: optimal in ${
    (100 * optimal / counted).toFixed(1)
  } %, worst relative gap ${(100 * worst).toFixed(2)} %`,
);
if (example) console.log(JSON.stringify(example));
if (minRate !== null && (100 * optimal) / counted < minRate) {
  console.error(`Optimality rate below ${minRate} %`);
  Deno.exit(1);
}
