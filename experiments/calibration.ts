/**
 * Calibration of predicted probabilities: the reliability table and the expected calibration
 * error (ECE) of Guo et al. (2017, "On Calibration of Modern Neural Networks").
 *
 * For each point the prediction is the most probable class and its confidence that probability;
 * the points are binned by confidence into `bins` equal-width bins of [0, 1] (a confidence of
 * exactly 1 goes in the last bin, 0 in the first), and
 *
 *   ECE = Σ_b (n_b / n) · |accuracy_b − mean confidence_b|,
 *
 * 0 for perfectly calibrated probabilities. The probabilities may sum to less than 1 per point
 * (the rest: "outlier", which is never a correct prediction here).
 *
 * @module
 */

/** One bin of a reliability table. */
export interface ReliabilityBin {
  /** Lower edge of the bin's confidence interval. */
  readonly from: number;
  /** Upper edge. */
  readonly to: number;
  /** Points whose confidence falls in the bin. */
  readonly count: number;
  /** Their mean confidence (NaN when empty). */
  readonly confidence: number;
  /** The share of them predicted correctly (NaN when empty). */
  readonly accuracy: number;
}

/** A reliability table and its expected calibration error. */
export interface Calibration {
  readonly bins: readonly ReliabilityBin[];
  /** Σ_b (n_b / n)|accuracy_b − confidence_b|. */
  readonly ece: number;
  /** Share of points whose most probable class is correct. */
  readonly accuracy: number;
  /** Mean log-probability of the correct class (−∞ if any is 0): the average log-likelihood. */
  readonly meanLogLikelihood: number;
}

/**
 * The reliability table and ECE of per-point class probabilities.
 *
 * @param probabilities Row-major n × c probabilities (rows sum to at most 1).
 * @param classes c, the number of columns.
 * @param truth The correct column of each point, or −1 where none is (every prediction wrong).
 * @param bins Number of equal-width confidence bins; default 10.
 * @returns The table, ECE, accuracy and mean log-likelihood.
 * @throws {RangeError} On mismatched lengths, probabilities outside [0, 1] or rows above 1.
 *
 * @example Overconfident predictions: confidence 0.9, half of them right
 * ```ts
 * import { calibration } from "./calibration.ts";
 * const c = calibration([0.9, 0.1, 0.9, 0.1], 2, [0, 1], 10);
 * if (Math.abs(c.ece - 0.4) > 1e-12) throw new Error(`ECE ${c.ece}`);
 * ```
 */
export function calibration(
  probabilities: ArrayLike<number>,
  classes: number,
  truth: ArrayLike<number>,
  bins = 10,
): Calibration {
  const n = truth.length;
  if (!Number.isInteger(classes) || classes < 1 || probabilities.length !== n * classes) {
    throw new RangeError(
      `Invalid probabilities: ${probabilities.length} values for ${n} points × ${classes} classes`,
    );
  }
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`Invalid bins = ${bins}`);
  const count = new Float64Array(bins),
    conf = new Float64Array(bins),
    hits = new Float64Array(bins);
  let correct = 0, logLikelihood = 0;
  for (let i = 0; i < n; i++) {
    let best = 0, total = 0;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[i * classes + c];
      if (!(p >= 0 && p <= 1)) {
        throw new RangeError(`Invalid probability of point ${i}, class ${c}: ${p}`);
      }
      total += p;
      if (p > probabilities[i * classes + best]) best = c;
    }
    if (total > 1 + 1e-9) throw new RangeError(`Probabilities of point ${i} sum to ${total} > 1`);
    const t = truth[i];
    if (!Number.isInteger(t) || t < -1 || t >= classes) {
      throw new RangeError(`Invalid truth[${i}] = ${t}: a class in [0, ${classes}) or −1`);
    }
    const p = probabilities[i * classes + best];
    const b = Math.min(bins - 1, Math.floor(p * bins));
    const ok = t === best ? 1 : 0;
    count[b]++;
    conf[b] += p;
    hits[b] += ok;
    correct += ok;
    logLikelihood += t < 0 ? -Infinity : Math.log(probabilities[i * classes + t]);
  }
  let ece = 0;
  const table: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const confidence = count[b] > 0 ? conf[b] / count[b] : NaN;
    const accuracy = count[b] > 0 ? hits[b] / count[b] : NaN;
    if (count[b] > 0) ece += (count[b] / n) * Math.abs(accuracy - confidence);
    table.push({ from: b / bins, to: (b + 1) / bins, count: count[b], confidence, accuracy });
  }
  return { bins: table, ece, accuracy: correct / n, meanLogLikelihood: logLikelihood / n };
}
