/**
 * The linear probe of the paper's semi-supervised protocol (§4.2, appendix 11.2; reference
 * code: embed the 1000 hold-out images, standardise the features with statistics fitted on
 * the hold-out, fit a multinomial logistic regression to convergence, report test accuracy).
 *
 * The model is scikit-learn's `LogisticRegression(multi_class="multinomial")` objective,
 * minimised exactly (it is strictly convex in the weights), so the probe's accuracy does not
 * depend on the solver: SAGA in the reference code, L-BFGS here.
 *
 *   f(W, b) = Σ_i [ log Σ_k exp(w_k·x_i + b_k) − (w_{y_i}·x_i + b_{y_i}) ] + ‖W‖² / (2C)
 *
 * with the intercepts b unpenalised (sklearn's convention; C = 1 is sklearn's default).
 * Features are standardised as sklearn's `StandardScaler` does (mean, population standard
 * deviation, constant features left unscaled). Classes are the distinct labels seen in
 * training, as sklearn's `classes_`: a class absent from the training labels has no finite
 * optimum (its unpenalised intercept would run to −∞), so it is not modelled.
 *
 * Two classes are fitted as a two-row softmax, not as sklearn's binary model (one weight
 * vector): the predictions are the same family but the penalty differs by a factor of two.
 *
 * Pure: nothing here mutates its inputs, reads files or draws random numbers.
 *
 * @module
 */
import { ConvergenceError, show } from "../../lib/core/errors.ts";
import { lbfgs, maxAbs, type ObjectiveValue } from "./_lbfgs.ts";

export type { ObjectiveValue };

/** A dense feature matrix: `rows` points of dimension `cols`, row-major. */
export interface FeatureMatrix {
  /** Number of points n. */
  readonly rows: number;
  /** Feature dimension d. */
  readonly cols: number;
  /** `rows × cols` values, row-major (e.g. the `dataSync()` of an n × d embedding tensor). */
  readonly data: Float32Array | Float64Array;
}

/** Features as a dense matrix or as rows (all of the same length). */
export type Features = FeatureMatrix | readonly ArrayLike<number>[];

/** Options of {@link fitLogisticProbe}. */
export interface LogisticProbeOptions {
  /** Inverse ℓ2 regularisation strength (sklearn's C); default 1. */
  readonly C?: number;
  /** Maximum L-BFGS iterations; default 2000. */
  readonly maxIters?: number;
  /**
   * Stop when ‖∇f‖_∞ / n ≤ tol (the gradient of the mean objective, the quantity scipy's
   * L-BFGS-B `gtol` bounds in sklearn ≥ 1.2); default 1e-6, a hundred times tighter than
   * sklearn's default 1e-4.
   */
  readonly tol?: number;
  /** Standardise features with statistics of the training features; default true. */
  readonly standardise?: boolean;
  /** If given, every label must be an integer in [0, numClasses). */
  readonly numClasses?: number;
  /** Throw a {@link ConvergenceError} instead of returning `converged: false`; default false. */
  readonly requireConvergence?: boolean;
}

/** A fitted probe (see {@link fitLogisticProbe}). */
export interface LogisticProbe {
  /** Label value of each modelled class (sorted distinct training labels), length K. */
  readonly classes: Int32Array;
  /** Feature dimension d. */
  readonly dim: number;
  /** Per-feature mean subtracted before the linear map (zeros when not standardising). */
  readonly mean: Float64Array;
  /** Per-feature divisor applied after centring (ones when not standardising). */
  readonly scale: Float64Array;
  /** K × d weights on the standardised features, row-major (row k = class `classes[k]`). */
  readonly weights: Float64Array;
  /** K intercepts, centred to sum 0 (the objective is invariant to a common shift). */
  readonly intercepts: Float64Array;
  /** The regularisation it was fitted with. */
  readonly C: number;
  /** Objective value f at the solution (sum of log-losses plus the penalty). */
  readonly objective: number;
  /** L-BFGS iterations taken. */
  readonly iterations: number;
  /** Objective-and-gradient evaluations (line-search trials included). */
  readonly evaluations: number;
  /** ‖∇f‖_∞ / n at the solution (compare with the tolerance). */
  readonly gradNorm: number;
  /** Whether gradNorm ≤ tol was reached within maxIters. */
  readonly converged: boolean;
}

const EPS = 2.220446049250313e-16;

function checkedMatrix(name: string, features: Features): FeatureMatrix {
  if (Array.isArray(features)) {
    const rows = features as readonly ArrayLike<number>[];
    if (rows.length === 0) {
      throw new RangeError(`Invalid ${name}: expected at least one row, got an empty array`);
    }
    const cols = rows[0]!.length;
    if (typeof cols !== "number" || cols === 0) {
      throw new RangeError(`Invalid ${name}[0]: expected a non-empty row, got ${show(rows[0])}`);
    }
    const data = new Float64Array(rows.length * cols);
    rows.forEach((row, i) => {
      if (row === null || typeof row !== "object" || row.length !== cols) {
        throw new RangeError(
          `Invalid ${name}[${i}]: every row must have length ${cols} like row 0, got ${show(row)}`,
        );
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = row[j]!;
    });
    assertFiniteMatrix(name, data, cols);
    return { rows: rows.length, cols, data };
  }
  const m = features as FeatureMatrix;
  if (
    m === null || typeof m !== "object" || !(m.data instanceof Float32Array ||
      m.data instanceof Float64Array)
  ) {
    throw new TypeError(
      `Invalid ${name}: expected an array of rows or { rows, cols, data: Float32Array | ` +
        `Float64Array }, got ${show(features)}`,
    );
  }
  if (!Number.isInteger(m.rows) || m.rows < 1 || !Number.isInteger(m.cols) || m.cols < 1) {
    throw new RangeError(
      `Invalid ${name} shape ${show(m.rows)} × ${show(m.cols)}: rows and cols must be ` +
        `positive integers`,
    );
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(
      `Invalid ${name}: data has length ${m.data.length} but rows × cols = ${m.rows} × ` +
        `${m.cols} = ${m.rows * m.cols}`,
    );
  }
  assertFiniteMatrix(name, m.data, m.cols);
  return m;
}

function assertFiniteMatrix(name: string, data: ArrayLike<number>, cols: number): void {
  for (let t = 0; t < data.length; t++) {
    if (!Number.isFinite(data[t])) {
      throw new RangeError(
        `Invalid ${name}[${Math.floor(t / cols)}][${t % cols}] = ${show(data[t])}: ` +
          `features must be finite`,
      );
    }
  }
}

function checkedLabels(
  name: string,
  labels: ArrayLike<number>,
  rows: number,
  numClasses: number | undefined,
): void {
  if (labels === null || typeof labels !== "object" || typeof labels.length !== "number") {
    throw new TypeError(
      `Invalid ${name}: expected an array of integer labels, got ${show(labels)}`,
    );
  }
  if (labels.length !== rows) {
    throw new RangeError(
      `Invalid ${name}: got ${labels.length} labels for ${rows} feature rows; the lengths ` +
        `must match`,
    );
  }
  const hi = numClasses === undefined ? 2 ** 31 - 1 : numClasses - 1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (typeof y !== "number" || !Number.isInteger(y) || y < 0 || y > hi) {
      throw new RangeError(
        `Invalid ${name}[${i}] = ${show(y)}: labels must be integers in [0, ${hi}]`,
      );
    }
  }
}

/**
 * The standardisation of sklearn's `StandardScaler`: per-feature mean and population
 * standard deviation, with 1 as the scale of a (numerically) constant feature.
 *
 * @param features Training features (not modified).
 * @returns `mean` and `scale`, each of length d.
 * @throws {TypeError} If `features` is neither rows nor a `{ rows, cols, data }` matrix.
 * @throws {RangeError} If it is empty, ragged, mis-sized or holds a non-finite value.
 *
 * @example Two points
 * ```ts
 * import { fitStandardiser } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const s = fitStandardiser([[1, 5], [3, 5]]);
 * assert.deepEqual([...s.mean], [2, 5]);
 * assert.deepEqual([...s.scale], [1, 1]); // second feature is constant: left unscaled
 * ```
 */
export function fitStandardiser(
  features: Features,
): { readonly mean: Float64Array; readonly scale: Float64Array } {
  const m = checkedMatrix("features", features);
  const { rows: n, cols: d, data } = m;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = data[i * d + j]! - mean[j]!;
      scale[j]! += c * c;
    }
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(scale[j]! / n);
    // A constant column's two-pass variance is rounding noise, not zero: treat anything
    // below a few ulps of the mean as constant (sklearn does the same), keeping it finite.
    scale[j] = s <= 10 * EPS * Math.max(1, Math.abs(mean[j]!)) ? 1 : s;
  }
  return { mean, scale };
}

function transformed(
  m: FeatureMatrix,
  mean: Float64Array,
  scale: Float64Array,
): Float64Array {
  const { rows: n, cols: d, data } = m;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = (data[i * d + j]! - mean[j]!) / scale[j]!;
  }
  return out;
}

/**
 * The multinomial logistic objective f and its gradient, as a function of the parameters
 * θ = K rows of [w_k (d values), b_k]:
 * f(θ) = Σ_i [logsumexp_k(w_k·x_i + b_k) − (w_{y_i}·x_i + b_{y_i})] + Σ_k ‖w_k‖² / (2C),
 * ∇_{w_k} f = Σ_i (p_ik − [y_i = k]) x_i + w_k / C, ∇_{b_k} f = Σ_i (p_ik − [y_i = k]),
 * with p_i = softmax of the logits. Features are used as given (no standardisation).
 *
 * @param features n × d features (copied; later changes do not affect the function).
 * @param classIndex Class of each point as an index in [0, numClasses).
 * @param numClasses K ≥ 2.
 * @param C Inverse regularisation strength (> 0).
 * @returns θ ↦ { value, gradient } (θ of length K·(d + 1)).
 * @throws {TypeError} If `features` is neither rows nor a dense matrix.
 * @throws {RangeError} On ragged / non-finite features, a length mismatch, a class index out
 * of range, K < 2, C ≤ 0, or (when called) a θ of the wrong length.
 *
 * @example At θ = 0 every class has probability 1/K
 * ```ts
 * import { multinomialObjective } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const f = multinomialObjective([[1], [2]], [0, 1], 2, 1);
 * assert.ok(Math.abs(f(new Float64Array(4)).value - 2 * Math.log(2)) < 1e-12);
 * ```
 */
export function multinomialObjective(
  features: Features,
  classIndex: ArrayLike<number>,
  numClasses: number,
  C: number,
): (theta: Float64Array) => ObjectiveValue {
  const m = checkedMatrix("features", features);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new RangeError(
      `Invalid numClasses = ${show(numClasses)}: a multinomial model needs an integer ≥ 2`,
    );
  }
  checkedLabels("classIndex", classIndex, m.rows, numClasses);
  if (typeof C !== "number" || !Number.isFinite(C) || C <= 0) {
    throw new RangeError(`Invalid C = ${show(C)}: C must be a finite number greater than 0`);
  }
  return objectiveOf(
    Float64Array.from(m.data),
    m.rows,
    m.cols,
    Int32Array.from(classIndex),
    numClasses,
    C,
  );
}

function objectiveOf(
  x: Float64Array,
  n: number,
  d: number,
  y: Int32Array,
  K: number,
  C: number,
): (theta: Float64Array) => ObjectiveValue {
  const stride = d + 1;
  const logits = new Float64Array(K);
  const invC = 1 / C;
  return (theta) => {
    if (!(theta instanceof Float64Array) || theta.length !== K * stride) {
      throw new RangeError(
        `Invalid theta: expected a Float64Array of length K·(d + 1) = ${K * stride}, got ` +
          show(theta),
      );
    }
    const grad = new Float64Array(K * stride);
    let value = 0;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        const wo = k * stride;
        let z = theta[wo + d]!;
        for (let j = 0; j < d; j++) z += theta[wo + j]! * x[xo + j]!;
        logits[k] = z;
        if (z > max) max = z;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp(logits[k]! - max);
        logits[k] = e;
        sum += e;
      }
      const yi = y[i]!;
      // log Σ exp(z) − z_y, in the max-shifted form that cannot overflow.
      value += Math.log(sum) - Math.log(logits[yi]!);
      for (let k = 0; k < K; k++) {
        const r = logits[k]! / sum - (k === yi ? 1 : 0);
        const go = k * stride;
        for (let j = 0; j < d; j++) grad[go + j]! += r * x[xo + j]!;
        grad[go + d]! += r;
      }
    }
    let penalty = 0;
    for (let k = 0; k < K; k++) {
      const wo = k * stride;
      for (let j = 0; j < d; j++) {
        const w = theta[wo + j]!;
        penalty += w * w;
        grad[wo + j]! += w * invC;
      }
    }
    return { value: value + 0.5 * invC * penalty, gradient: grad };
  };
}

/**
 * Fits the linear probe: standardisation on the training features, then the multinomial
 * logistic regression of sklearn (`C`, unpenalised intercept) minimised by L-BFGS until the
 * gradient of the mean objective is below `tol` in max-norm.
 *
 * @param features Training (hold-out) features, n × d (not modified).
 * @param labels Class of each row: non-negative integers, at least two distinct values.
 * @param options `C` (default 1), `maxIters` (2000), `tol` (1e-6), `standardise` (true),
 * `numClasses` (label range check), `requireConvergence` (false).
 * @returns The fitted {@link LogisticProbe}, with iterations, final gradient norm and whether
 * it converged.
 * @throws {TypeError} If `features` or `labels` has the wrong type.
 * @throws {RangeError} On empty, ragged or non-finite features, a features/labels length
 * mismatch, a label that is not a non-negative integer (or ≥ numClasses), fewer than two
 * distinct labels, or an invalid option.
 * @throws {ConvergenceError} If `requireConvergence` is set and tol is not reached.
 *
 * @example Two separated groups
 * ```ts
 * import { fitLogisticProbe, predict, probeAccuracy } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const x = [[0, 0], [0, 1], [1, 0], [5, 5], [5, 6], [6, 5], [10, 0], [10, 1], [11, 0]];
 * const y = [0, 0, 0, 1, 1, 1, 2, 2, 2];
 * const probe = fitLogisticProbe(x, y);
 * assert.ok(probe.converged && probe.gradNorm <= 1e-6);
 * assert.deepEqual([...predict(probe, [[0.5, 0.5], [10.5, 0.5]])], [0, 2]);
 * assert.equal(probeAccuracy(probe, x, y), 1);
 * ```
 */
export function fitLogisticProbe(
  features: Features,
  labels: ArrayLike<number>,
  options: LogisticProbeOptions = {},
): LogisticProbe {
  const C = options.C ?? 1;
  const maxIters = options.maxIters ?? 2000;
  const tol = options.tol ?? 1e-6;
  if (typeof C !== "number" || !Number.isFinite(C) || C <= 0) {
    throw new RangeError(`Invalid C = ${show(C)}: C must be a finite number greater than 0`);
  }
  if (!Number.isInteger(maxIters) || maxIters < 0) {
    throw new RangeError(`Invalid maxIters = ${show(maxIters)}: expected an integer ≥ 0`);
  }
  if (typeof tol !== "number" || !(tol > 0)) {
    throw new RangeError(`Invalid tol = ${show(tol)}: tol must be a number greater than 0`);
  }
  if (
    options.numClasses !== undefined &&
    (!Number.isInteger(options.numClasses) || options.numClasses < 2)
  ) {
    throw new RangeError(
      `Invalid numClasses = ${show(options.numClasses)}: expected an integer ≥ 2`,
    );
  }
  const m = checkedMatrix("features", features);
  checkedLabels("labels", labels, m.rows, options.numClasses);
  const classes = Int32Array.from(new Set(Array.from(labels))).sort();
  if (classes.length < 2) {
    throw new RangeError(
      `Invalid labels: a classifier needs at least two distinct labels, got only ${
        show(classes[0])
      }`,
    );
  }
  const indexOf = new Map<number, number>();
  classes.forEach((c, k) => indexOf.set(c, k));
  const y = Int32Array.from(Array.from(labels), (v) => indexOf.get(v)!);
  const { mean, scale } = options.standardise === false
    ? { mean: new Float64Array(m.cols), scale: new Float64Array(m.cols).fill(1) }
    : fitStandardiser(m);
  const n = m.rows, d = m.cols, K = classes.length;
  const f = objectiveOf(transformed(m, mean, scale), n, d, y, K, C);
  // The objective is a sum over n points; tol bounds the gradient of the mean, so the
  // stopping rule does not depend on n.
  const fit = lbfgs(f, new Float64Array(K * (d + 1)), tol * n, maxIters);
  const weights = new Float64Array(K * d);
  const intercepts = new Float64Array(K);
  let bMean = 0;
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) weights[k * d + j] = fit.theta[k * (d + 1) + j]!;
    intercepts[k] = fit.theta[k * (d + 1) + d]!;
    bMean += intercepts[k]! / K;
  }
  for (let k = 0; k < K; k++) intercepts[k]! -= bMean;
  const gradNorm = maxAbs(fit.gradient) / n;
  if (options.requireConvergence && !fit.converged) {
    throw new ConvergenceError(
      `Logistic probe did not converge: ‖∇f‖∞/n = ${gradNorm.toExponential(3)} > tol = ${tol} ` +
        `after ${fit.iterations} iterations (raise maxIters or tol)`,
    );
  }
  return {
    classes,
    dim: d,
    mean,
    scale,
    weights,
    intercepts,
    C,
    objective: fit.value,
    iterations: fit.iterations,
    evaluations: fit.evaluations,
    gradNorm,
    converged: fit.converged,
  };
}

function checkedForModel(model: LogisticProbe, features: Features): FeatureMatrix {
  const m = checkedMatrix("features", features);
  if (m.cols !== model.dim) {
    throw new RangeError(
      `Invalid features: rows have dimension ${m.cols} but the probe was fitted on dimension ` +
        `${model.dim}`,
    );
  }
  return m;
}

/**
 * Class probabilities of each row under a fitted probe (the training standardisation is
 * applied first).
 *
 * @param model A fitted probe.
 * @param features n × d features (not modified).
 * @returns n × K probabilities, row-major; column k is class `model.classes[k]`.
 * @throws {TypeError} If `features` has the wrong type.
 * @throws {RangeError} If `features` is empty, ragged, non-finite or of another dimension.
 *
 * @example Rows sum to one
 * ```ts
 * import { fitLogisticProbe, predictProba } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const probe = fitLogisticProbe([[0], [1], [2]], [0, 1, 2]);
 * const p = predictProba(probe, [[0.5]]);
 * assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-12);
 * ```
 */
export function predictProba(model: LogisticProbe, features: Features): Float64Array {
  const m = checkedForModel(model, features);
  const n = m.rows, d = m.cols, K = model.classes.length;
  const x = transformed(m, model.mean, model.scale);
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let z = model.intercepts[k]!;
      for (let j = 0; j < d; j++) z += model.weights[k * d + j]! * x[i * d + j]!;
      out[i * K + k] = z;
      max = Math.max(max, z);
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += out[i * K + k] = Math.exp(out[i * K + k]! - max);
    for (let k = 0; k < K; k++) out[i * K + k]! /= sum;
  }
  return out;
}

/**
 * Predicted label of each row (the most probable class; ties go to the smaller label).
 *
 * @param model A fitted probe.
 * @param features n × d features (not modified).
 * @returns The predicted labels (values from `model.classes`).
 * @throws {TypeError} If `features` has the wrong type.
 * @throws {RangeError} If `features` is empty, ragged, non-finite or of another dimension.
 *
 * @example
 * ```ts
 * import { fitLogisticProbe, predict } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const probe = fitLogisticProbe([[0], [1], [10], [11]], [3, 3, 7, 7]);
 * assert.deepEqual([...predict(probe, [[0.2], [10.7]])], [3, 7]);
 * ```
 */
export function predict(model: LogisticProbe, features: Features): Int32Array {
  const p = predictProba(model, features);
  const K = model.classes.length;
  const n = p.length / K;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    out[i] = model.classes[best]!;
  }
  return out;
}

/**
 * Accuracy of the probe on labelled features (the paper's downstream metric; 1 − test
 * error). A label the probe never saw in training counts as an error.
 *
 * @param model A fitted probe.
 * @param features n × d features (not modified).
 * @param labels True label of each row (non-negative integers).
 * @returns The fraction of rows whose predicted label equals the true one.
 * @throws {TypeError} If `features` or `labels` has the wrong type.
 * @throws {RangeError} On bad features, a length mismatch or a label that is not a
 * non-negative integer.
 *
 * @example
 * ```ts
 * import { fitLogisticProbe, probeAccuracy } from "./logistic.ts";
 * import assert from "node:assert/strict";
 * const probe = fitLogisticProbe([[0], [1], [10], [11]], [0, 0, 1, 1]);
 * assert.equal(probeAccuracy(probe, [[0.5], [10.5], [20]], [0, 0, 1]), 2 / 3);
 * ```
 */
export function probeAccuracy(
  model: LogisticProbe,
  features: Features,
  labels: ArrayLike<number>,
): number {
  const m = checkedForModel(model, features);
  checkedLabels("labels", labels, m.rows, undefined);
  const predicted = predict(model, m);
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / predicted.length;
}
