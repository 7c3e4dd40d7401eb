/**
 * A small pool of Web Workers for the Monte-Carlo estimates of Definition 6: the samples of one
 * estimate are split into contiguous chunks, each worker solves its chunk with the same
 * per-sample noise streams as the single-threaded `makePerturbed` / `forEachPerturbation`, and
 * the main thread adds the integer edge/cluster counts and sums the per-sample values in sample
 * order — so the result is bit-identical to the single-threaded path for the same seed, for any
 * pool size.
 *
 * Σ travels once per estimate: copied into a SharedArrayBuffer that all workers read when the
 * platform offers one (Deno; browsers only when cross-origin isolated), structured-cloned to
 * each worker otherwise; results come back as transferred buffers. Web-standard APIs only
 * (Worker, postMessage), so it also runs in browsers (bundle `_forest_worker.ts` as a module
 * worker).
 *
 * @module
 */
import {
  assertConstraints,
  type Constraints,
  unsafeConstrainedSpanningForest,
} from "../constrained/constrained_forest.ts";
import { assertIntegerInRange } from "../core/errors.ts";
import { assertSimilarity, fromData, type Matrix } from "../core/matrix.ts";
import { addScaledUpperNoise, upperTriangleSize } from "../core/noise.ts";
import { unsafeMaxSpanningForest } from "../forest/spanning_forest.ts";
import {
  accumulateEdges,
  accumulateSameCluster,
  assertSeed,
  checkPerturbedOptions,
  type PerturbedEstimate,
  type PerturbedOptions,
  symmetricMean,
} from "./perturbed.ts";
import { forEachNoiseDraw } from "./_noise_draws.ts";
import { type ChunkAnswer, ChunkWorkers, type NoiseChunk, shared } from "../core/_worker_pool.ts";

/** One chunk of samples, as posted by the pool. */
export interface ChunkRequest extends NoiseChunk {
  /** Number of points. */
  readonly n: number;
  /** Σ, n × n row-major (a SharedArrayBuffer view when the pool could share it). */
  readonly sigma: Float64Array;
  /** Number of clusters. */
  readonly k: number;
  /** M_Ω entries (n × n) for the constrained solver, or null for the unconstrained one. */
  readonly constraints: Int8Array | null;
}

/** The chunk's sums: upper-triangle counts and the value of each sample, in sample order. */
export interface ChunkResult extends ChunkAnswer {
  /** Σ_b A_b over the chunk (upper triangle, i < j), n × n. */
  readonly adjacency: Float64Array;
  /** Σ_b [same cluster]_b over the chunk (upper triangle), n × n. */
  readonly connectivity: Float64Array;
  /** ⟨A_b, Σ + εZ_b⟩ for b = lo..hi−1. */
  readonly values: Float64Array;
}

/**
 * Runs one chunk. Pure: the same request gives bit-identical results in any thread.
 *
 * @param r The chunk.
 * @returns Its sums.
 * @throws {RangeError | InfeasibleConstraintsError} As the solvers do.
 *
 * @example
 * ```ts
 * import { runChunk } from "./forest_pool.ts";
 * const sigma = new Float64Array([0, 1, 1, 0]);
 * const r = runChunk({ id: 0, n: 2, sigma, k: 1, constraints: null, epsilon: 0.1,
 *   noise: "gaussian", antithetic: false, seed: 1, lo: 0, hi: 4 });
 * if (r.adjacency[1] !== 4 || r.values.length !== 4) throw new Error();
 * ```
 */
export function runChunk(r: ChunkRequest): ChunkResult {
  const { n, k, lo, hi } = r;
  const sigma = fromData(n, r.sigma);
  const z = new Float64Array(upperTriangleSize(n));
  const buffer = new Float64Array(n * n), perturbed = fromData(n, buffer);
  const adjacency = new Float64Array(n * n), connectivity = new Float64Array(n * n);
  const values = new Float64Array(hi - lo);
  const c = r.constraints ? { n, data: r.constraints } : null;
  forEachNoiseDraw(r, r.seed, lo, hi, z, (b, sign) => {
    addScaledUpperNoise(sigma, sign * r.epsilon, z, buffer);
    const forest = c
      ? unsafeConstrainedSpanningForest(perturbed, k, c)
      : unsafeMaxSpanningForest(perturbed, k);
    accumulateEdges(adjacency, n, forest, 1);
    accumulateSameCluster(connectivity, n, forest.labels);
    values[b - lo] = forest.value;
  });
  return { id: r.id, adjacency, connectivity, values };
}

/**
 * What {@link ForestWorkerPool.perturbed} estimates: Definition 6's options plus the solver.
 *
 * @category Perturbed forests
 */
export interface PoolEstimateOptions extends PerturbedOptions {
  /** Number of clusters k. */
  readonly k: number;
  /** M_Ω: when given, the constrained solver (Definition 5) is perturbed instead. */
  readonly constraints?: Constraints;
}

/**
 * A fixed set of module workers running {@link runChunk}. Create with
 * {@link ForestWorkerPool.create}; call {@link ForestWorkerPool.terminate} when done (a live
 * worker keeps a Deno process running).
 *
 * @example Two workers give exactly the single-threaded estimate
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { makePerturbed } from "./perturbed.ts";
 * import { unsafeMaxSpanningForest } from "../forest/spanning_forest.ts";
 * import { ForestWorkerPool } from "./forest_pool.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 5, 6, 20];
 * const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2))));
 * const opts = { k: 2, epsilon: 0.5, samples: 8, noise: "gaussian" as const };
 * const pool = ForestWorkerPool.create(2);
 * try {
 *   const parallel = await pool.perturbed(sigma, opts, 7);
 *   const single = makePerturbed((s) => unsafeMaxSpanningForest(s, 2), opts)(sigma, 7);
 *   assert.deepEqual(parallel, single);
 * } finally {
 *   pool.terminate();
 * }
 * ```
 *
 * @category Perturbed forests
 */
export class ForestWorkerPool {
  readonly #workers: ChunkWorkers<ChunkRequest, ChunkResult>;

  private constructor(workers: ChunkWorkers<ChunkRequest, ChunkResult>) {
    this.#workers = workers;
  }

  /**
   * Starts `size` module workers.
   *
   * @param size Number of workers, an integer in [1, 256] (e.g. the number of cores).
   * @returns The pool.
   * @throws {RangeError} If `size` is not an integer in [1, 256].
   *
   * @example
   * ```ts
   * import { ForestWorkerPool } from "./forest_pool.ts";
   * const pool = ForestWorkerPool.create(1);
   * pool.terminate();
   * ```
   */
  static create(size: number): ForestWorkerPool {
    const url = new URL("./_forest_worker.ts", import.meta.url);
    return new ForestWorkerPool(new ChunkWorkers(url, size, "forest"));
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * The estimate of `makePerturbed(solver, opts)(sigma, seed)` (Definition 6) with the samples
   * spread over the workers; bit-identical to the single-threaded result for the same seed.
   * The solver is `unsafeMaxSpanningForest(·, k)`, or `unsafeConstrainedSpanningForest(·, k, M_Ω)`
   * when `opts.constraints` is given.
   *
   * @param sigma Symmetric, finite similarity matrix.
   * @param opts Noise options, k, and optionally M_Ω.
   * @param seed 32-bit integer seed.
   * @returns Â_ε, M̂_ε and F̂_ε.
   * @throws {TypeError | RangeError} On invalid input (synchronously checked, returned as a
   * rejected promise).
   * @throws {Error} If a worker fails (e.g. infeasible constraints), with the worker's message.
   *
   * @example
   * ```ts
   * import { matrix } from "../core/matrix.ts";
   * import { ForestWorkerPool } from "./forest_pool.ts";
   * const pool = ForestWorkerPool.create(2);
   * const est = await pool.perturbed(matrix([[0, 1], [1, 0]]),
   *   { k: 1, epsilon: 0.1, samples: 4, noise: "gumbel" }, 3);
   * pool.terminate();
   * if (est.adjacency.data[1] !== 1) throw new Error();
   * ```
   */
  async perturbed(
    sigma: Matrix,
    opts: PoolEstimateOptions,
    seed: number,
  ): Promise<PerturbedEstimate> {
    assertSimilarity("sigma", sigma);
    const o = checkPerturbedOptions(opts);
    assertSeed(seed);
    const n = sigma.n;
    assertIntegerInRange("k", opts.k, 1, n, `for n = ${n}`);
    if (opts.constraints !== undefined) assertConstraints("constraints", opts.constraints, n);
    const data = this.#workers.size > 1 ? shared(sigma.data) : sigma.data;
    // Contiguous chunks, even-aligned so that an antithetic pair never straddles two workers.
    const chunks = Math.min(this.#workers.size, o.samples);
    const step = 2 * Math.ceil(o.samples / chunks / 2);
    const requests: Omit<ChunkRequest, "id">[] = [];
    for (let lo = 0; lo < o.samples; lo += step) {
      requests.push({
        n,
        sigma: data,
        k: opts.k,
        constraints: opts.constraints?.data ?? null,
        epsilon: o.epsilon,
        noise: o.noise,
        antithetic: o.antithetic,
        seed,
        lo,
        hi: Math.min(o.samples, lo + step),
      });
    }
    const results = await this.#workers.run(requests);
    const adjacency = new Float64Array(n * n), connectivity = new Float64Array(n * n);
    let value = 0;
    for (const r of results) {
      // Counts are small integers: their sums are exact in any order.
      for (let t = 0; t < adjacency.length; t++) {
        adjacency[t] += r.adjacency[t];
        connectivity[t] += r.connectivity[t];
      }
      // Values are added in sample order, as the single-threaded loop does.
      for (let b = 0; b < r.values.length; b++) value += r.values[b];
    }
    return {
      adjacency: symmetricMean(adjacency, n, o.samples, 0),
      connectivity: symmetricMean(connectivity, n, o.samples, 1),
      value: value / o.samples,
    };
  }

  /**
   * Stops every worker; pending estimates are rejected.
   *
   * @example
   * ```ts
   * import { ForestWorkerPool } from "./forest_pool.ts";
   * ForestWorkerPool.create(1).terminate();
   * ```
   */
  terminate(): void {
    this.#workers.terminate();
  }
}
