/**
 * Clustering quality metrics: the paper's batch-wise connectivity precision
 * (1 − mean |M_pred − M_true| over the n × n connectivity matrices, diagonal included) and the
 * three scores deep-clustering papers report — adjusted Rand index (ARI), normalised mutual
 * information (NMI, arithmetic normalisation) and unsupervised accuracy (ACC, best one-to-one
 * matching of clusters to classes found with the Hungarian algorithm).
 *
 * ARI and NMI follow scikit-learn 1.2's conventions exactly, including its special cases, so
 * numbers are comparable with published tables.
 *
 * @module
 */
import { show } from "../core/errors.ts";
import { assertMatrixShape, type Matrix } from "../core/matrix.ts";

/** Labels re-indexed to 0..k−1 (by first appearance) together with k. */
interface DenseLabels {
  readonly codes: Int32Array;
  readonly k: number;
}

/** Validates a label vector (non-empty, integer entries) and re-indexes it densely. */
function denseLabels(name: string, labels: ArrayLike<number>): DenseLabels {
  if (
    labels === null || typeof labels !== "object" || typeof labels.length !== "number"
  ) {
    throw new TypeError(`Expected ${name} to be an array of integer labels, got ${show(labels)}`);
  }
  const n = labels.length;
  if (n === 0) throw new RangeError(`Invalid ${name}: it is empty, labels need at least one point`);
  const codes = new Int32Array(n);
  const index = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new RangeError(`Invalid ${name}[${i}] = ${show(v)}: labels must be integers`);
    }
    // -0 and 0 are the same label (Map uses SameValueZero, so this is automatic).
    let code = index.get(v);
    if (code === undefined) {
      code = index.size;
      index.set(v, code);
    }
    codes[i] = code;
  }
  return { codes, k: index.size };
}

/** Validates two label vectors of the same length. */
function labelPair(
  nameA: string,
  a: ArrayLike<number>,
  nameB: string,
  b: ArrayLike<number>,
): readonly [DenseLabels, DenseLabels] {
  const da = denseLabels(nameA, a);
  const db = denseLabels(nameB, b);
  if (da.codes.length !== db.codes.length) {
    throw new RangeError(
      `Invalid ${nameB}: it has length ${db.codes.length} but ${nameA} has length ${da.codes.length}`,
    );
  }
  return [da, db];
}

/** Contingency table counts[i * kb + j] = #{p : a_p = i, b_p = j}, with its row/column sums. */
function contingency(a: DenseLabels, b: DenseLabels) {
  const counts = new Float64Array(a.k * b.k);
  const rowSums = new Float64Array(a.k);
  const colSums = new Float64Array(b.k);
  for (let p = 0; p < a.codes.length; p++) {
    counts[a.codes[p] * b.k + b.codes[p]]++;
    rowSums[a.codes[p]]++;
    colSums[b.codes[p]]++;
  }
  return { counts, rowSums, colSums };
}

/**
 * The connectivity matrix of a labelling: M_ij = 1 iff points i and j carry the same label
 * (so M_ii = 1). This is the M of the paper's Definition 1, the target of the supervised loss.
 *
 * @param labels Integer cluster labels, one per point (non-empty).
 * @returns The `n × n` 0/1 matrix M.
 * @throws {TypeError} If `labels` is not array-like.
 * @throws {RangeError} If it is empty or holds a non-integer.
 *
 * @example Two clusters
 * ```ts
 * import { connectivityFromLabels } from "./metrics.ts";
 * import { toRows } from "../core/matrix.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toRows(connectivityFromLabels([7, 7, 3])), [[1, 1, 0], [1, 1, 0], [0, 0, 1]]);
 * ```
 *
 * @category Metrics
 */
export function connectivityFromLabels(labels: ArrayLike<number>): Matrix {
  const { codes } = denseLabels("labels", labels);
  const n = codes.length;
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) data[i * n + j] = codes[i] === codes[j] ? 1 : 0;
  }
  return { n, data };
}

/** Checks a connectivity-like matrix: shape and entries in [0, 1]. */
function assertConnectivity(name: string, m: unknown): asserts m is Matrix {
  assertMatrixShape(name, m);
  const { n, data } = m;
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (!(v >= 0 && v <= 1)) {
      throw new RangeError(
        `Invalid ${name}[${Math.floor(k / n)}][${k % n}] = ${
          show(v)
        }: connectivity entries must lie in [0, 1]`,
      );
    }
  }
}

/**
 * The paper's batch-wise clustering precision: 1 − mean |M_pred − M_true| over all n² entries,
 * diagonal included (as the reference code computes it). For 0/1 matrices this is the
 * proportion of equal entries; soft matrices with entries in [0, 1] (e.g. a perturbed,
 * expected connectivity M_ε) are accepted too.
 *
 * @param pred Predicted connectivity matrix (entries in [0, 1]).
 * @param truth True connectivity matrix of the same size (entries in [0, 1]).
 * @returns A number in [0, 1]; 1 means identical matrices.
 * @throws {TypeError} If either is not a {@link Matrix}.
 * @throws {RangeError} If the sizes differ or an entry lies outside [0, 1] (or is NaN).
 *
 * @example One misplaced point out of three
 * ```ts
 * import { connectivityAccuracy, connectivityFromLabels } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const pred = connectivityFromLabels([0, 0, 0]);
 * const truth = connectivityFromLabels([0, 0, 1]);
 * assert.equal(connectivityAccuracy(pred, truth), 5 / 9); // 4 of 9 entries differ
 * ```
 *
 * @category Metrics
 */
export function connectivityAccuracy(pred: Matrix, truth: Matrix): number {
  assertConnectivity("pred", pred);
  assertConnectivity("truth", truth);
  if (pred.n !== truth.n) {
    throw new RangeError(`Invalid truth: size ${truth.n} differs from pred's size ${pred.n}`);
  }
  let diff = 0;
  for (let k = 0; k < pred.data.length; k++) diff += Math.abs(pred.data[k] - truth.data[k]);
  return 1 - diff / pred.data.length;
}

/**
 * Adjusted Rand index (Hubert & Arabie 1985), computed like scikit-learn 1.2's
 * `adjusted_rand_score` from the pair confusion matrix:
 * ARI = 2 (TP·TN − FN·FP) / ((TP + FN)(FN + TN) + (TP + FP)(FP + TN)).
 *
 * Conventions (same as scikit-learn): ARI = 1 whenever the two partitions agree on every
 * pair (FN = FP = 0), which includes n = 1 and two single-cluster labellings; otherwise the
 * denominator is positive. Label values are arbitrary integers; only the partition matters.
 * Pair counts are exact in float64 up to n ≈ 10⁴ points.
 *
 * @param a First labelling (integers, non-empty).
 * @param b Second labelling, same length.
 * @returns A number in [−0.5, 1]; ≈ 0 for independent labellings, 1 for identical partitions.
 * @throws {TypeError} If a labelling is not array-like.
 * @throws {RangeError} If a labelling is empty or non-integer, or the lengths differ.
 *
 * @example Same partition, different names
 * ```ts
 * import { adjustedRandIndex } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert.equal(adjustedRandIndex([0, 0, 1, 1], [5, 5, 2, 2]), 1);
 * assert.ok(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) < 0);
 * ```
 *
 * @category Metrics
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [da, db] = labelPair("a", a, "b", b);
  const n = da.codes.length;
  const { counts, rowSums, colSums } = contingency(da, db);
  // Ordered pair counts (as sklearn's pair_confusion_matrix): Σ n_ij², Σ a_i², Σ b_j².
  let sumSquares = 0, sumRowSquares = 0, sumColSquares = 0;
  for (const c of counts) sumSquares += c * c;
  for (const r of rowSums) sumRowSquares += r * r;
  for (const c of colSums) sumColSquares += c * c;
  const tp = sumSquares - n;
  const fp = sumColSquares - sumSquares; // same cluster in b, different in a
  const fn = sumRowSquares - sumSquares; // same cluster in a, different in b
  const tn = n * n - fp - fn - sumSquares;
  if (fn === 0 && fp === 0) return 1;
  return (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

/** Shannon entropy (natural log) of a vector of counts summing to n. */
function entropy(sums: Float64Array, n: number): number {
  let h = 0;
  for (const c of sums) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/**
 * Normalised mutual information with arithmetic normalisation (scikit-learn's default):
 * NMI = I(a; b) / ((H(a) + H(b)) / 2), natural logarithms.
 *
 * Conventions (same as scikit-learn 1.2's `normalized_mutual_info_score`):
 * - NMI = 1 when both labellings are a single cluster (both entropies 0: nothing to compare,
 *   and the partitions are identical);
 * - NMI = 0 when the mutual information is 0 otherwise (e.g. one single cluster against a
 *   labelling with several clusters);
 * - the mutual information is clipped at 0 to absorb rounding.
 *
 * @param a First labelling (integers, non-empty).
 * @param b Second labelling, same length.
 * @returns A number in [0, 1]; 1 for identical partitions.
 * @throws {TypeError} If a labelling is not array-like.
 * @throws {RangeError} If a labelling is empty or non-integer, or the lengths differ.
 *
 * @example Identical and independent partitions
 * ```ts
 * import { normalizedMutualInfo } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert.equal(normalizedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0]), 1);
 * assert.equal(normalizedMutualInfo([0, 0, 1, 1], [0, 1, 0, 1]), 0);
 * ```
 *
 * @category Metrics
 */
export function normalizedMutualInfo(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const [da, db] = labelPair("a", a, "b", b);
  if (da.k === 1 && db.k === 1) return 1;
  const n = da.codes.length;
  const { counts, rowSums, colSums } = contingency(da, db);
  let mi = 0;
  for (let i = 0; i < da.k; i++) {
    for (let j = 0; j < db.k; j++) {
      const c = counts[i * db.k + j];
      if (c > 0) mi += (c / n) * Math.log((n * c) / (rowSums[i] * colSums[j]));
    }
  }
  mi = Math.max(mi, 0);
  if (mi === 0) return 0;
  const normaliser = (entropy(rowSums, n) + entropy(colSums, n)) / 2;
  // MI ≤ min(H(a), H(b)) ≤ mean, so the ratio is ≤ 1 up to rounding; clip that rounding.
  return Math.min(mi / normaliser, 1);
}

/**
 * Unsupervised clustering accuracy: the fraction of points correctly labelled under the best
 * one-to-one matching of predicted clusters to true classes (found with {@link hungarian} on
 * the contingency table). When the numbers of clusters differ, the surplus clusters of the
 * larger side stay unmatched and their points count as errors.
 *
 * @param pred Predicted cluster labels (integers, non-empty).
 * @param truth True class labels, same length.
 * @returns A number in [1 / max(k_pred, k_truth), 1].
 * @throws {TypeError} If a labelling is not array-like.
 * @throws {RangeError} If a labelling is empty or non-integer, or the lengths differ.
 *
 * @example Renamed clusters with one mistake
 * ```ts
 * import { clusteringAccuracy } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert.equal(clusteringAccuracy([2, 2, 0, 0, 0], [0, 0, 1, 1, 0]), 4 / 5);
 * ```
 *
 * @category Metrics
 */
export function clusteringAccuracy(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  const [dp, dt] = labelPair("pred", pred, "truth", truth);
  const { counts } = contingency(dp, dt);
  // Maximise matched counts = minimise their negation.
  const cost: number[][] = [];
  for (let i = 0; i < dp.k; i++) {
    const row: number[] = [];
    for (let j = 0; j < dt.k; j++) row.push(-counts[i * dt.k + j]);
    cost.push(row);
  }
  return -hungarian(cost).cost / dp.codes.length;
}

/** Validates a rectangular cost matrix and returns its shape. */
function costShape(cost: readonly (readonly number[])[]): readonly [number, number] {
  if (!Array.isArray(cost)) {
    throw new TypeError(`Expected cost to be an array of rows, got ${show(cost)}`);
  }
  if (cost.length === 0) throw new RangeError("Invalid cost: it has no rows");
  const rows = cost.length;
  const first = cost[0];
  if (!Array.isArray(first)) {
    throw new TypeError(`Expected cost[0] to be an array, got ${show(first)}`);
  }
  const cols = first.length;
  if (cols === 0) throw new RangeError("Invalid cost: it has no columns (cost[0] is empty)");
  for (let i = 0; i < rows; i++) {
    const row = cost[i];
    if (!Array.isArray(row)) {
      throw new TypeError(`Expected cost[${i}] to be an array, got ${show(row)}`);
    }
    if (row.length !== cols) {
      throw new RangeError(
        `Invalid cost[${i}]: it has length ${row.length} but cost[0] has ${cols} (ragged)`,
      );
    }
    for (let j = 0; j < cols; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new RangeError(`Invalid cost[${i}][${j}] = ${show(v)}: entries must be finite`);
      }
    }
  }
  return [rows, cols];
}

/**
 * Shortest-augmenting-path Kuhn–Munkres with potentials for `rows ≤ cols`: O(rows² · cols).
 * Returns colOfRow.
 */
function hungarianWide(
  rows: number,
  cols: number,
  at: (i: number, j: number) => number,
): Int32Array {
  // 1-based arrays; index 0 is the virtual root column/row of the classical formulation.
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const rowOfCol = new Int32Array(cols + 1); // 0 = free
  const way = new Int32Array(cols + 1);
  const minSlack = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    rowOfCol[0] = i;
    let col0 = 0;
    minSlack.fill(Infinity);
    used.fill(0);
    do {
      used[col0] = 1;
      const i0 = rowOfCol[col0];
      let delta = Infinity, col1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const slack = at(i0 - 1, j - 1) - u[i0] - v[j];
        if (slack < minSlack[j]) {
          minSlack[j] = slack;
          way[j] = col0;
        }
        if (minSlack[j] < delta) {
          delta = minSlack[j];
          col1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[rowOfCol[j]] += delta;
          v[j] -= delta;
        } else {
          minSlack[j] -= delta;
        }
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    // Augment along the alternating path back to the root.
    do {
      const col1 = way[col0];
      rowOfCol[col0] = rowOfCol[col1];
      col0 = col1;
    } while (col0 !== 0);
  }
  const colOfRow = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (rowOfCol[j] !== 0) colOfRow[rowOfCol[j] - 1] = j - 1;
  return colOfRow;
}

/**
 * Minimum-cost assignment (Kuhn–Munkres / Hungarian algorithm, shortest augmenting paths with
 * potentials) for a rectangular `rows × cols` cost matrix, in O(min² · max) time.
 *
 * Every row is matched to a distinct column when `rows ≤ cols`; when `rows > cols` every
 * column is matched to a distinct row and the `rows − cols` unmatched rows get column −1.
 * Among optimal assignments with ties, which one is returned is unspecified.
 *
 * @param cost Finite costs, `cost[i][j]` = cost of matching row i to column j (non-empty,
 *   rectangular).
 * @returns `assignment[i]` = column matched to row i (or −1), and the total `cost` of the
 *   matched entries (summed from the input, so it is exact for integer costs).
 * @throws {TypeError} If `cost` is not an array of arrays.
 * @throws {RangeError} If it has no rows or columns, is ragged, or holds a non-finite entry.
 *
 * @example A 2 × 3 problem
 * ```ts
 * import { hungarian } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const { assignment, cost } = hungarian([[4, 1, 3], [2, 0, 5]]);
 * assert.deepEqual(Array.from(assignment), [1, 0]);
 * assert.equal(cost, 3);
 * ```
 */
export function hungarian(
  cost: readonly (readonly number[])[],
): { assignment: Int32Array; cost: number } {
  const [rows, cols] = costShape(cost);
  let assignment: Int32Array;
  if (rows <= cols) {
    assignment = hungarianWide(rows, cols, (i, j) => cost[i][j]);
  } else {
    // Solve the transposed problem (cols ≤ rows) and invert the matching.
    const rowOfCol = hungarianWide(cols, rows, (i, j) => cost[j][i]);
    assignment = new Int32Array(rows).fill(-1);
    for (let j = 0; j < cols; j++) assignment[rowOfCol[j]] = j;
  }
  let total = 0;
  for (let i = 0; i < rows; i++) if (assignment[i] >= 0) total += cost[i][assignment[i]];
  return { assignment, cost: total };
}
