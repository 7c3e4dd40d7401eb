/**
 * Internal (not re-exported by `mod.ts`): the one sampling loop of every Monte-Carlo estimator of
 * Definition 6 — dense (`perturbed.ts`), on a graph (`perturbed_on_graph.ts`) and in the chunks
 * of the worker pool (`forest_pool.ts`). Which stream sample b draws from, and the sign of the
 * antithetic pairs, are decided here alone: that is why the noise of the complete graph in
 * row-major order is exactly the dense noise, and why a pool of any size gives the
 * single-threaded estimate. What each estimator writes from a draw (Σ + sign·εZ_b into a matrix,
 * w + sign·εz_b into edge weights) stays with it; `perturbed_on_graph.ts` gives the measurement.
 *
 * @module
 */
import { fillUpperNoise, type NoiseName } from "../core/noise.ts";

/** What decides the draws: the distribution and whether samples come in antithetic pairs. */
export interface NoiseDraws {
  /** Distribution ν of the entries. */
  readonly noise: NoiseName;
  /** Pairs (z, −z): samples 2p and 2p + 1 share stream (seed, p). */
  readonly antithetic: boolean;
}

/**
 * For b = lo..hi−1: draws z_b into `z` — stream (seed, b), or (seed, ⌊b/2⌋) when antithetic, the
 * second of a pair reusing the first's draw with sign −1 (drawn afresh when a range starts on
 * it) — and calls `step(b, sign)`.
 *
 * @param draws Distribution and antithetic pairing (checked).
 * @param seed 32-bit seed (checked).
 * @param lo First sample.
 * @param hi One past the last sample.
 * @param z The draw's buffer, one entry per perturbed weight (overwritten).
 * @param step Called once per sample, in order, after its draw.
 */
export function forEachNoiseDraw(
  draws: NoiseDraws,
  seed: number,
  lo: number,
  hi: number,
  z: Float64Array,
  step: (b: number, sign: number) => void,
): void {
  for (let b = lo; b < hi; b++) {
    const sign = draws.antithetic && (b & 1) === 1 ? -1 : 1;
    if (sign === 1 || b === lo) {
      fillUpperNoise(draws.noise, seed, draws.antithetic ? b >>> 1 : b, z);
    }
    step(b, sign);
  }
}
