/**
 * Spanning forests on sparse graphs.
 *
 * - "loss": the perturbed partial Fenchel–Young loss (k = 10, ε = 0.1, 100 samples, half the
 *   points labelled) on the 15-NN graph of 1024 points, against the dense loss at the paper's
 *   batch size n = 64 (baseline) — what a training step that sees 1024 points costs.
 * - "2-d n=1e5": single linkage of 10⁵ uniform 2-d points via the Delaunay graph, by stage.
 * - "32-d n=5e3": kNN lists, exact (blocked brute force) and by NN-descent.
 *
 *     deno bench -A bench/graph_bench.ts
 *
 * scripts/graph_compare.ts compares with scipy and pynndescent side by side at full scale.
 */
import { randomPoints } from "./inputs.ts";
import { fromData } from "../lib/core/matrix.ts";
import { constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { partialFyLoss } from "../lib/losses/fy_loss.ts";
import { partialFyLossOnGraph } from "../lib/losses/fy_loss_on_graph.ts";
import { unsafeForestHierarchyOnGraph } from "../lib/forest/spanning_forest_on_graph.ts";
import { delaunayGraph, exactNeighbours, neighbourGraph } from "../lib/graph/point_graphs.ts";
import { approximateNeighbours } from "../lib/graph/nn_descent.ts";
import { rectFromData } from "../lib/core/rect_matrix.ts";
import { clusterPoints } from "../lib/graph/cluster_points.ts";

/**
 * Ten separated 2-d blobs (centres 10 apart, unit spread), n points. Separated, because on a
 * sparse graph the greedy constrained solver gives up when classes interleave (see
 * lib/constrained/constrained_forest_on_graph.ts).
 */
function blobs(n: number, seed: number): Float64Array {
  const x = randomPoints(n, 2, seed);
  for (let i = 0; i < n; i++) x[2 * i] += (i % 10) * 10;
  return x;
}

const lossOpts = { k: 10, epsilon: 0.1, samples: 100, noise: "gaussian" as const };
{
  const n = 64, x = blobs(n, 1), raw = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      raw[i * n + j] = -((x[2 * i] - x[2 * j]) ** 2 + (x[2 * i + 1] - x[2 * j + 1]) ** 2);
    }
  }
  const labels = Array.from({ length: n }, (_, i) => (i < n / 2 ? i % 10 : null));
  const c = constraintsFromLabels(labels), loss = partialFyLoss(lossOpts);
  Deno.bench({
    name: "dense partial FY loss, n = 64, 100 samples",
    group: "loss",
    baseline: true,
    fn: () => void loss(fromData(n, raw), c, 1),
  });
}
for (const n of [1024]) {
  const g = neighbourGraph(exactNeighbours(rectFromData(n, 2, blobs(n, 2)), 15));
  const labels = Array.from({ length: n }, (_, i) => (i < n / 2 ? i % 10 : null));
  const loss = partialFyLossOnGraph(lossOpts);
  Deno.bench({
    name: `graph partial FY loss, 15-NN graph of n = ${n} (${g.from.length} edges), 100 samples`,
    group: "loss",
    n: 20,
    warmup: 2,
    fn: () => void loss(g, labels, 1),
  });
}

{
  const n = 100_000, x = rectFromData(n, 2, randomPoints(n, 2, 3));
  const g = delaunayGraph(x);
  const opts = { n: 5, warmup: 1 };
  Deno.bench({
    name: "Delaunay graph",
    group: "2-d n=1e5",
    baseline: true,
    ...opts,
    fn: () => void delaunayGraph(x),
  });
  Deno.bench({
    name: "hierarchy on it (Kruskal, radix sort)",
    group: "2-d n=1e5",
    ...opts,
    fn: () => void unsafeForestHierarchyOnGraph(g),
  });
  Deno.bench({
    name: "clusterPoints (all stages)",
    group: "2-d n=1e5",
    ...opts,
    fn: () => void clusterPoints(x, 10),
  });
}

{
  const n = 5_000, d = 32, x = rectFromData(n, d, randomPoints(n, d, 4));
  const opts = { n: 3, warmup: 1 };
  Deno.bench({
    name: "exact 15-NN (blocked brute force)",
    group: "32-d n=5e3",
    baseline: true,
    ...opts,
    fn: () => void exactNeighbours(x, 15),
  });
  Deno.bench({
    name: "NN-descent 15-NN",
    group: "32-d n=5e3",
    ...opts,
    fn: () => void approximateNeighbours(x, { k: 15 }),
  });
}
