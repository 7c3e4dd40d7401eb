/**
 * Solvers on a dense Σ against the memory floor (one plain pass over the n² entries), per n:
 * the unconstrained forest (validated and unchecked), and the constrained forest (Definition 5)
 * for a half-labelled batch with k = #classes (the semi-supervised setting) and k = #classes + 5
 * (clusters of unlabelled points too).
 *
 *     deno bench -A bench/spanning_forest_bench.ts
 */
import {
  memoryFloorPassFor,
  negSquaredDistanceMatrix,
  partialLabels,
  randomPoints,
} from "./inputs.ts";
import {
  constrainedSpanningForest,
  constraintsFromLabels,
  unsafeConstrainedSpanningForest,
} from "../lib/constrained/constrained_forest.ts";
import {
  forestHierarchy,
  maxSpanningForest,
  unsafeMaxSpanningForest,
} from "../lib/forest/spanning_forest.ts";

const K = 10;
for (const n of [64, 256, 1024, 4096]) {
  const sigma = negSquaredDistanceMatrix(randomPoints(n, 8, n), 8);
  const c = constraintsFromLabels(partialLabels(n, n / 2, K));
  const group = `n=${n}`, memoryFloorPass = memoryFloorPassFor(n);
  // Few timed iterations for large n keep the whole `deno bench` run within minutes.
  const opts = n >= 4096 ? { n: 5, warmup: 1 } : n >= 1024 ? { n: 30, warmup: 3 } : {};
  Deno.bench({
    name: "memory floor: one pass over n² entries",
    group,
    baseline: true,
    ...opts,
    fn: () => void memoryFloorPass(sigma.data),
  });
  Deno.bench({
    name: "unsafeMaxSpanningForest (k = 10)",
    group,
    ...opts,
    fn: () => void unsafeMaxSpanningForest(sigma, K),
  });
  Deno.bench({
    name: "maxSpanningForest (k = 10, validates Σ)",
    group,
    ...opts,
    fn: () => void maxSpanningForest(sigma, K),
  });
  Deno.bench({
    name: "forestHierarchy (all k, validates Σ)",
    group,
    ...opts,
    fn: () => void forestHierarchy(sigma),
  });
  Deno.bench({
    name: "unsafeConstrainedSpanningForest (½ labelled, k = 10)",
    group,
    ...opts,
    fn: () => void unsafeConstrainedSpanningForest(sigma, K, c),
  });
  Deno.bench({
    name: "unsafeConstrainedSpanningForest (½ labelled, k = 15)",
    group,
    ...opts,
    fn: () => void unsafeConstrainedSpanningForest(sigma, K + 5, c),
  });
  Deno.bench({
    name: "constrainedSpanningForest (½ labelled, k = 10, validates)",
    group,
    ...opts,
    fn: () => void constrainedSpanningForest(sigma, K, c),
  });
}
