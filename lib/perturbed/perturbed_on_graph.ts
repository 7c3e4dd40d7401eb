/**
 * Perturbed forests on a sparse graph (Definition 6 of Stewart et al., 2023, with the noise on
 * the edges): for edge weights w and noise z (one iid ν draw per edge),
 *
 *   F_ε(w)  = E[ F(w + εz) ],   F(w) = ⟨A*(w), Σ(w)⟩ = 2 Σ_{e ∈ A*} w_e,
 *   a_ε(w)  = E[ 1{e ∈ A*(w + εz)} ]           (edge marginals: the perturbed forest),
 *   c_ε(w)  = E[ 1{i_e, j_e in one tree} ]     (perturbed connectivity on the edges),
 *
 * and ∇_w F_ε = 2 a_ε (Berthet et al., 2020, Prop. 2.2; the 2 because w_e stands for both Σ_ij and
 * Σ_ji, so it is the dense gradient's A_ij + A_ji). Options, seeds and samples are those of
 * {@link makePerturbed}: sample b of seed s draws `fillUpperNoise(noise, s, b)` over the m edges,
 * antithetic pairs (z, −z) included. On a complete graph in row-major order
 * ({@link completeGraph}) this is exactly the dense noise, so the two estimators agree.
 *
 * Nothing here is n × n: memory is O(n + m) whatever the number of samples.
 *
 * Dense and graph cores: what is shared, and what is not. Both run the one sampling loop of
 * `_noise_draws.ts` (stream and sign of each sample; the worker pool runs it too), which costs
 * nothing measurable. The dense core does not go further and perturb the complete graph's
 * weights before mirroring them into the n × n matrix its solvers read: against the shared loop,
 * that extra pass was slower at the paper's batch size (n = 64: +23 to +31 %) and at n = 1024 in
 * two runs of three (+8 %, +19 %), faster only at n = 256 (−18 %), so the dense core keeps
 * writing Σ + sign·εZ_b straight into the matrix. Measured with `deno bench --allow-read=. bench/perturbed_core_bench.ts` on
 * 2026-12-07, 2 cores (`nproc`), AMD EPYC, shared with other work; mean time per call (8 Gaussian
 * antithetic samples, no-op solver), three runs:
 *
 * | n    | dense, separate  | shared (this) | via edge weights | graph, separate  | shared (this) |
 * | ---- | ---------------- | ------------- | ---------------- | ---------------- | ------------- |
 * | 64   | 70 / 76 / 74 µs  | 63 / 63 / 65  | 80 / 82 / 79     | 48 / 48 / 49 µs  | 48 / 50 / 48  |
 * | 256  | 1.7/1.8/1.7 ms   | 1.7/1.7/1.7   | 1.4/1.4/1.4      | 746/746/747 µs   | 761/748/736   |
 * | 1024 | 45 / 43 / 45 ms  | 47 / 42 / 44  | 51 / 50 / 43     | 13 / 13 / 12 ms  | 13 / 13 / 13  |
 *
 * The library's own loops before and after sharing, side by side in one process, agreed within
 * noise too (n = 256, dense: 1.7 / 1.8 / 1.7 ms before, 1.6 / 1.8 / 1.7 ms after).
 *
 * @module
 */
import { show } from "../core/errors.ts";
import { assertGraph, type Graph, withWeights } from "../graph/graph.ts";
import type { GraphSolver } from "../forest/spanning_forest_on_graph.ts";
import { assertSeed, checkPerturbedOptions, type PerturbedOptions } from "./perturbed.ts";
import { forEachNoiseDraw } from "./_noise_draws.ts";

/**
 * Monte-Carlo estimates of Definition 6 on the edges of a graph.
 *
 * @category Perturbed forests
 */
export interface GraphPerturbedEstimate {
  /** â_ε: per edge, the fraction of samples whose forest contains it (∇_w F̂_ε = 2 â_ε). */
  readonly adjacency: Float64Array;
  /** ĉ_ε: per edge, the fraction of samples whose forest puts its endpoints in one tree. */
  readonly connectivity: Float64Array;
  /** F̂_ε = mean of F(w + εz_b). */
  readonly value: number;
}

/** What {@link forEachGraphPerturbation} hands to its visitor for sample b. */
export interface GraphPerturbationSample {
  /** Sample number b in [0, samples). */
  readonly index: number;
  /** The graph with weights w + sign · ε z_b. Its weight array is reused: read it before returning. */
  readonly graph: Graph;
  /** The noise z_b over the edges (before the sign). A reused buffer. */
  readonly z: Float64Array;
  /** +1, or −1 for the second member of an antithetic pair. */
  readonly sign: number;
}

/**
 * The sampling loop of every graph estimator: for b = 0..B−1 writes w + sign·εz_b into one
 * reused weight array and calls `visit`. Options and seed are assumed checked.
 *
 * @param g The graph (its weights are not mutated).
 * @param opts Checked options (from `checkPerturbedOptions`).
 * @param seed 32-bit seed.
 * @param visit Called once per sample, in order.
 *
 * @example
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { forEachGraphPerturbation } from "./perturbed_on_graph.ts";
 * let sum = 0;
 * forEachGraphPerturbation(graph(2, [[0, 1, 1]]), { epsilon: 1, samples: 2, noise: "gaussian",
 *   antithetic: true }, 3, ({ graph }) => sum += graph.weight[0]);
 * if (Math.abs(sum - 2) > 1e-12) throw new Error(); // w + εz and w − εz
 * ```
 */
export function forEachGraphPerturbation(
  g: Graph,
  opts: Required<PerturbedOptions>,
  seed: number,
  visit: (sample: GraphPerturbationSample) => void,
): void {
  const m = g.weight.length, w = g.weight;
  const z = new Float64Array(m), p = new Float64Array(m);
  const sample = { index: 0, graph: withWeights(g, p), z, sign: 1 };
  forEachNoiseDraw(opts, seed, 0, opts.samples, z, (b, sign) => {
    const scale = sign * opts.epsilon;
    for (let e = 0; e < m; e++) p[e] = w[e] + scale * z[e];
    sample.index = b;
    sample.sign = sign;
    visit(sample);
  });
}

/**
 * The graph form of {@link makePerturbed}: wraps any graph solver (unconstrained
 * `unsafeMaxSpanningForestOnGraph`, constrained `unsafeConstrainedSpanningForestOnGraph`, …) into a pure
 * function `(graph, seed) => { adjacency, connectivity, value }` of per-edge Monte-Carlo
 * estimates. Same `(graph, seed)` ⇒ bit-identical result.
 *
 * @param solver Any graph solver; it receives the perturbed graph (a reused weight buffer — it
 * must not keep it).
 * @param opts ε, number of samples, noise, antithetic (as {@link makePerturbed}).
 * @returns The estimator.
 * @throws {TypeError | RangeError} On invalid options; the returned function throws on an
 * invalid graph or seed and passes on the solver's errors.
 *
 * @example Two well separated pairs
 * ```ts
 * import { graph } from "../graph/graph.ts";
 * import { unsafeMaxSpanningForestOnGraph } from "../forest/spanning_forest_on_graph.ts";
 * import { makePerturbedOnGraph } from "./perturbed_on_graph.ts";
 * import assert from "node:assert/strict";
 * const g = graph(4, [[0, 1, -1], [1, 2, -9], [2, 3, -1]]);
 * const est = makePerturbedOnGraph((h) => unsafeMaxSpanningForestOnGraph(h, 2),
 *   { epsilon: 0.1, samples: 50, noise: "gaussian" })(g, 0);
 * assert.deepEqual([...est.adjacency], [1, 0, 1]);
 * ```
 *
 * @category Perturbed forests
 */
export function makePerturbedOnGraph(
  solver: GraphSolver,
  opts: PerturbedOptions,
): (g: Graph, seed: number) => GraphPerturbedEstimate {
  if (typeof solver !== "function") {
    throw new TypeError(
      `Expected solver to be a function (graph) => GraphForest, got ${show(solver)}`,
    );
  }
  const o = checkPerturbedOptions(opts);
  return (g: Graph, seed: number): GraphPerturbedEstimate => {
    assertGraph("graph", g);
    assertSeed(seed);
    const m = g.weight.length, { from, to } = g;
    const adjacency = new Float64Array(m), connectivity = new Float64Array(m);
    let value = 0;
    forEachGraphPerturbation(g, o, seed, ({ graph }) => {
      const forest = solver(graph);
      const idx = forest.edgeIndex, labels = forest.labels;
      for (let t = 0; t < idx.length; t++) adjacency[idx[t]] += 1;
      for (let e = 0; e < m; e++) if (labels[from[e]] === labels[to[e]]) connectivity[e] += 1;
      value += forest.value;
    });
    for (let e = 0; e < m; e++) {
      adjacency[e] /= o.samples;
      connectivity[e] /= o.samples;
    }
    return { adjacency, connectivity, value: value / o.samples };
  };
}
