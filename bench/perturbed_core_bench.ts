/**
 * The perturbation core of Definition 6, dense vs on a graph: what one sampling loop for both
 * costs. Every estimator draws sample b of a seed, writes the perturbed weights and hands them to
 * its solver; here the solver is a no-op (one read), so the figures are the core alone.
 *
 * - "separate loops": each core with its own loop over the samples (the layout before the loop
 *   was shared), written out here as the reference.
 * - "shared loop": the library's `forEachPerturbation` / `forEachGraphPerturbation`, both on
 *   `forEachNoiseDraw` (`lib/perturbed/_noise_draws.ts`): one closure call per sample.
 * - "through the edge weights": the dense core as the graph core on the complete graph (Σ's upper
 *   triangle in row-major order), mirrored into the n × n matrix the dense solvers read: one data
 *   path for both, at the cost of an extra pass over the n(n − 1)/2 weights per sample.
 *
 * 8 Gaussian samples in antithetic pairs, n = 64, 256, 1024. Results and the decision are in the
 * module doc of `lib/perturbed/perturbed_on_graph.ts`.
 *
 *     deno bench --allow-read=. bench/perturbed_core_bench.ts
 *
 * @module
 */
import { negSquaredDistanceMatrix, randomPoints } from "./inputs.ts";
import { fromData, type Matrix } from "../lib/core/matrix.ts";
import { fillUpperNoise } from "../lib/core/noise.ts";
import { completeGraph, type Graph, withWeights } from "../lib/graph/graph.ts";
import { checkPerturbedOptions, forEachPerturbation } from "../lib/perturbed/perturbed.ts";
import { forEachGraphPerturbation } from "../lib/perturbed/perturbed_on_graph.ts";

const opts = checkPerturbedOptions({
  epsilon: 0.1,
  samples: 8,
  noise: "gaussian",
  antithetic: true,
});

/** Dense, separate loop: Σ + εZ_b written straight into the matrix, both triangles at once. */
function denseSeparate(sigma: Matrix, seed: number, visit: (s: Matrix) => void): void {
  const n = sigma.n, w = completeGraph(sigma).weight, z = new Float64Array(w.length);
  const data = new Float64Array(n * n), out = fromData(n, data);
  for (let b = 0; b < opts.samples; b++) {
    const odd = opts.antithetic && b % 2 === 1;
    if (!odd) fillUpperNoise(opts.noise, seed, opts.antithetic ? b >> 1 : b, z);
    const scale = odd ? -opts.epsilon : opts.epsilon;
    let e = 0;
    for (let i = 0; i < n; i++) {
      data[i * (n + 1)] = sigma.data[i * (n + 1)];
      for (let j = i + 1; j < n; j++, e++) data[j * n + i] = data[i * n + j] = w[e] + scale * z[e];
    }
    visit(out);
  }
}

/** Graph, separate loop: w + εz_b written into the edge weights. */
function graphSeparate(g: Graph, seed: number, visit: (h: Graph) => void): void {
  const w = g.weight, m = w.length, z = new Float64Array(m), p = new Float64Array(m);
  const h = withWeights(g, p);
  for (let b = 0; b < opts.samples; b++) {
    const odd = opts.antithetic && b % 2 === 1;
    if (!odd) fillUpperNoise(opts.noise, seed, opts.antithetic ? b >> 1 : b, z);
    const scale = odd ? -opts.epsilon : opts.epsilon;
    for (let e = 0; e < m; e++) p[e] = w[e] + scale * z[e];
    visit(h);
  }
}

/** Dense through the edge weights: the graph core on the complete graph, mirrored into Σ. */
function denseThroughEdges(sigma: Matrix, seed: number, visit: (s: Matrix) => void): void {
  const n = sigma.n, g = completeGraph(sigma), { from, to } = g;
  const data = new Float64Array(n * n), out = fromData(n, data);
  for (let i = 0; i < n; i++) data[i * (n + 1)] = sigma.data[i * (n + 1)];
  forEachGraphPerturbation(g, opts, seed, ({ graph }) => {
    const p = graph.weight;
    for (let e = 0; e < p.length; e++) data[from[e] * n + to[e]] = data[to[e] * n + from[e]] = p[e];
    visit(out);
  });
}

let sink = 0;
const readMatrix = (s: Matrix) => void (sink += s.data[1]);
const readGraph = (h: Graph) => void (sink += h.weight[0]);
for (const n of [64, 256, 1024]) {
  const sigma = negSquaredDistanceMatrix(randomPoints(n, 2, n), 2), g = completeGraph(sigma);
  const iters = n >= 1024 ? { n: 30, warmup: 5 } : {};
  const dense = `dense core n=${n}`, graph = `graph core n=${n} (complete graph)`;
  Deno.bench({
    name: "separate loops",
    group: dense,
    baseline: true,
    ...iters,
    fn: () => denseSeparate(sigma, 1, readMatrix),
  });
  Deno.bench({
    name: "shared loop (forEachPerturbation)",
    group: dense,
    ...iters,
    fn: () => forEachPerturbation(sigma, opts, 1, ({ sigma: s }) => readMatrix(s)),
  });
  Deno.bench({
    name: "through the edge weights",
    group: dense,
    ...iters,
    fn: () => denseThroughEdges(sigma, 1, readMatrix),
  });
  Deno.bench({
    name: "separate loops",
    group: graph,
    baseline: true,
    ...iters,
    fn: () => graphSeparate(g, 1, readGraph),
  });
  Deno.bench({
    name: "shared loop (forEachGraphPerturbation)",
    group: graph,
    ...iters,
    fn: () => forEachGraphPerturbation(g, opts, 1, ({ graph }) => readGraph(graph)),
  });
}
if (sink === 42) console.log(sink); // keeps the reads alive
