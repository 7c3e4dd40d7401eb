/**
 * The schedule of an exp:otkmeans run: which training images are held out for validation, and
 * the ε of each step.
 *
 * @module
 */
import { mixSeed, range, shuffled } from "../data/splits.ts";
import type { OtKMeansConfig } from "./flags.ts";

/**
 * The training / validation split of the training images: `valSize` images drawn at random
 * (seed-determined) are held out for validation, and the training set is the rest, or
 * `trainSize` of the rest. The two never overlap.
 *
 * @param n Training images available.
 * @param cfg Sizes and seed.
 * @returns Indices of the training and of the validation images.
 */
export function trainValSplit(
  n: number,
  cfg: Pick<OtKMeansConfig, "trainSize" | "valSize" | "seed">,
): { trainIdx: Int32Array; valIdx: Int32Array } {
  if (cfg.valSize >= n) {
    throw new RangeError(`--val-size ${cfg.valSize} leaves none of the ${n} training images`);
  }
  const order = shuffled(range(0, n), mixSeed(cfg.seed, 1));
  const valIdx = order.slice(0, cfg.valSize).sort();
  const rest = order.slice(cfg.valSize);
  const trainIdx = cfg.trainSize > 0 ? rest.slice(0, cfg.trainSize) : rest.sort();
  return { trainIdx, valIdx };
}

/**
 * ε at a step: constant `epsilon`, or (with `epsilonStart` > 0) geometric decay from
 * `epsilonStart` at the centroid initialisation (step `warmupSteps`) to `epsilon` at the last step.
 *
 * @param cfg The ε settings, warm-up and step count.
 * @param step The current step.
 * @returns ε of this step's Sinkhorn solve.
 */
export function epsilonAt(
  cfg: Pick<OtKMeansConfig, "epsilon" | "epsilonStart" | "warmupSteps" | "steps">,
  step: number,
): number {
  if (cfg.epsilonStart <= 0) return cfg.epsilon;
  const span = Math.max(1, cfg.steps - 1 - cfg.warmupSteps);
  const t = Math.min(1, Math.max(0, (step - cfg.warmupSteps) / span));
  return cfg.epsilonStart * Math.pow(cfg.epsilon / cfg.epsilonStart, t);
}
