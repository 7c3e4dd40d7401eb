/**
 * Fenchel–Young losses of the perturbed k-spanning forest (Section 3 of Stewart et al., 2023).
 *
 * Full supervision (Definition 7, Blondel et al., 2020): for a target k-forest adjacency Y,
 *
 *   L_ε(Σ; Y) = F_ε(Σ) − ⟨Σ, Y⟩ (+ Ω(Y), constant in Σ and dropped),   ∇_Σ L_ε = A*_ε(Σ) − Y.
 *
 * Partial supervision (Definition 8, Proposition 1): with F_ε(Σ; M_Ω) the perturbed maximum
 * over the k-forests whose clusters agree with M_Ω (Definition 5),
 *
 *   ℓ_ε(Σ; M_Ω) = F_ε(Σ) − F_ε(Σ; M_Ω) ≥ 0,   ∇_Σ ℓ_ε = A*_ε(Σ) − A*_ε(Σ; M_Ω),
 *
 * and (Proposition 2) ℓ_ε(Σ; M_Ω) ≤ min over k-forests Y in C_k(M_Ω) of L_ε(Σ; Y).
 *
 * Estimation. Both losses are averages over the same noise draws Z_b (common random numbers,
 * as the reference code): per sample b,
 *
 *   full:     F(Σ + εZ_b) − ⟨Σ + εZ_b, Y⟩
 *   partial:  F(Σ + εZ_b) − F(Σ + εZ_b; M_Ω)
 *
 * Each term is ≥ 0 because Y (resp. the constrained forest) is one of the k-forests the
 * unconstrained maximum ranges over, so the estimates are ≥ 0 exactly, the partial estimate is
 * ≤ the full one for every Y ∈ C_k(M_Ω) sample by sample (Proposition 2 holds for the
 * estimates, not only in expectation), and when M_Ω carries no information the two solves agree
 * and loss and gradient are exactly 0. The extra −ε⟨Z̄, Y⟩ in the full estimate has mean zero
 * for Gaussian noise (for Gumbel it removes the constant 2(n − k)εγ that the noise mean adds to
 * every forest) and does not depend on Σ, so the gradient is exactly Â_ε − Y.
 *
 * Each term is computed over the symmetric difference of the two edge sets (edges in both cancel
 * exactly) and clamped at 0 to absorb floating-point rounding in near-ties.
 *
 * The constrained solver is the fast greedy `unsafeConstrainedSpanningForest` by default: it is
 * exact when every point is labelled; otherwise its value F̃ ≤ F(·; M_Ω), the loss is
 * F_ε(Σ) − F̃_ε(Σ; M_Ω) ≥ ℓ_ε and the gradient is A*_ε(Σ) − Ã_ε(Σ; M_Ω) — the identity that holds
 * for what is computed. Option `constrainedSolver: "exact"` uses the exponential exact solver.
 *
 * @module
 */
import { assertFeasibleK, groupStructure } from "../constrained/_constraint_groups.ts";
import {
  assertConstraints,
  constrainedSpanningForest,
  type Constraints,
  constraintsFromLabels,
  exactConstrainedSpanningForest,
  unsafeConstrainedSpanningForest,
} from "../constrained/constrained_forest.ts";
import { assertIntegerInRange, show } from "../core/errors.ts";
import { labelForestSolver, terminalClique } from "../constrained/_label_forest.ts";
import { assertSimilarity, type Matrix } from "../core/matrix.ts";
import { maxForestEdges, maxForestWork } from "../forest/_max_forest.ts";
import {
  assertSeed,
  checkPerturbedOptions,
  forEachPerturbation,
  type PerturbedOptions,
  symmetricMean,
} from "../perturbed/perturbed.ts";
import { DisjointSets, type Forest } from "../forest/spanning_forest.ts";

/**
 * Options of the Fenchel–Young losses: Definition 6's options plus the number of clusters.
 *
 * @category Losses
 */
export interface FyLossOptions extends PerturbedOptions {
  /** Number of clusters k (trees of the forest), an integer in [1, n]. */
  readonly k: number;
  /**
   * Constrained solver for {@link partialFyLoss}: "greedy" (default; fast, exact when every
   * point is labelled) or "exact" (enumerates partitions of the must-link groups; small n).
   */
  readonly constrainedSolver?: "greedy" | "exact";
}

/**
 * A loss value and its gradient with respect to Σ (full-matrix convention, symmetric).
 *
 * @category Losses
 */
export interface LossAndGradient {
  /** The Monte-Carlo estimate of the loss. */
  readonly loss: number;
  /** The Monte-Carlo estimate of its gradient, n × n, symmetric, zero diagonal. */
  readonly grad: Matrix;
}

function checkLossOptions(opts: FyLossOptions): {
  perturbed: Required<PerturbedOptions>;
  k: number;
  exact: boolean;
} {
  const perturbed = checkPerturbedOptions(opts);
  assertIntegerInRange("k", opts.k, 1, Number.MAX_SAFE_INTEGER);
  const cs = opts.constrainedSolver ?? "greedy";
  if (cs !== "greedy" && cs !== "exact") {
    throw new RangeError(
      `Invalid constrainedSolver = ${show(cs)}: constrainedSolver must be "greedy" or "exact"`,
    );
  }
  return { perturbed, k: opts.k, exact: cs === "exact" };
}

/**
 * Checks that `target` is the adjacency matrix of a spanning forest with exactly k trees on n
 * points (0/1 entries, symmetric, zero diagonal, acyclic, n − k edges) and returns its edges.
 *
 * @param name Argument name used in messages.
 * @param target The value to check.
 * @param n Expected size.
 * @param k Expected number of trees.
 * @returns The edges [i, j], i < j, in row-major order.
 * @throws {TypeError} If `target` is not a Matrix.
 * @throws {RangeError} If it has the wrong size, an entry other than 0/1, is asymmetric, has a
 * non-zero diagonal, a cycle, or not n − k edges.
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { forestAdjacencyEdges } from "./fy_loss.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(forestAdjacencyEdges("target", matrix([[0, 1], [1, 0]]), 2, 1), [[0, 1]]);
 * assert.throws(() => forestAdjacencyEdges("target", matrix([[0, 1], [1, 0]]), 2, 2),
 *   /Invalid target: it has 1 edges but a k = 2 forest on n = 2 points has 0/);
 * ```
 */
export function forestAdjacencyEdges(
  name: string,
  target: unknown,
  n: number,
  k: number,
): [number, number][] {
  if (
    typeof target !== "object" || target === null ||
    !((target as Matrix).data instanceof Float64Array)
  ) {
    throw new TypeError(
      `Expected ${name} to be a Matrix {n, data: Float64Array}, got ${show(target)}`,
    );
  }
  const t = target as Matrix;
  if (t.n !== n || t.data.length !== n * n) {
    throw new RangeError(
      `Invalid ${name}: it is ${show(t.n)} × ${
        show(t.n)
      } (data length ${t.data.length}) but sigma is ${n} × ${n}`,
    );
  }
  const sets = new DisjointSets(n);
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    if (t.data[i * n + i] === 1) {
      throw new RangeError(
        `Invalid ${name}[${i}][${i}] = 1: a forest adjacency has a zero diagonal — this looks ` +
          `like a connectivity matrix M (e.g. connectivityFromLabels); the target is the ` +
          `adjacency of a k-forest: build it from labels with fyTarget(sigma, labels)`,
      );
    }
    if (t.data[i * n + i] !== 0) {
      throw new RangeError(
        `Invalid ${name}[${i}][${i}] = ${
          show(t.data[i * n + i])
        }: a forest adjacency has a zero diagonal`,
      );
    }
    for (let j = i + 1; j < n; j++) {
      const v = t.data[i * n + j];
      if (v !== 0 && v !== 1) {
        throw new RangeError(
          `Invalid ${name}[${i}][${j}] = ${show(v)}: a forest adjacency has entries 0 or 1`,
        );
      }
      if (t.data[j * n + i] !== v) {
        throw new RangeError(
          `Invalid ${name}: not symmetric at (${i}, ${j}): ${v} vs ${show(t.data[j * n + i])}`,
        );
      }
      if (v === 1) {
        if (sets.union(i, j) === -1) {
          throw new RangeError(`Invalid ${name}: edge (${i}, ${j}) closes a cycle (not a forest)`);
        }
        edges.push([i, j]);
      }
    }
  }
  if (edges.length !== n - k) {
    throw new RangeError(
      `Invalid ${name}: it has ${edges.length} edges but a k = ${k} forest on n = ${n} points has ${
        n - k
      } (exactly k trees)`,
    );
  }
  return edges;
}

/** Adds `weight` at (i, j), i < j, for each of the first `count` edges of a flat pair list. */
function addEdges(
  acc: Float64Array,
  n: number,
  edges: Int32Array,
  count: number,
  weight: number,
): void {
  for (let t = 0; t < count; t++) acc[edges[2 * t] * n + edges[2 * t + 1]] += weight;
}

/**
 * Sorts the cells `cells[0 .. count)` by decreasing p[cell], keeping the order of equal weights
 * (a stable insertion sort: the lists are the few edges two forests do not share).
 */
function sortByWeight(cells: Int32Array, count: number, p: Float64Array): void {
  for (let a = 1; a < count; a++) {
    const c = cells[a], w = p[c];
    let b = a - 1;
    for (; b >= 0 && p[cells[b]] < w; b--) cells[b + 1] = cells[b];
    cells[b + 1] = c;
  }
}

/**
 * Writes the cells i·n + j of the edges of `edges` (flat pairs, i < j) whose mark is non-zero
 * into `cells`, in list order, and returns how many.
 */
function unsharedCells(
  marks: Int8Array,
  n: number,
  edges: Int32Array,
  count: number,
  cells: Int32Array,
): number {
  let c = 0;
  for (let t = 0; t < count; t++) {
    const u = edges[2 * t] * n + edges[2 * t + 1];
    if (marks[u] !== 0) cells[c++] = u;
  }
  return c;
}

/**
 * ⟨A_plus − A_minus, P⟩ for two forests given by flat edge lists (pairs i < j) on the perturbed
 * matrix P, summing only the edges that are not in both (so identical forests give exactly 0),
 * clamped at 0 (rounding in near-ties).
 *
 * The sum runs in the order the edges have in the solvers' `Forest.edges` (heaviest first), so
 * that it is the same floating-point number: `plus` is listed by Prim vertex (ties then go to the
 * smaller vertex, as in the hierarchy), `minus` in the constrained solver's order, and only the
 * unshared edges are sorted, stably, by weight. `sortMinus` is false for a list that is summed
 * in its own order (the target of {@link fyLoss}).
 */
function forestGap(
  scratch: GapScratch,
  p: Float64Array,
  n: number,
  plus: Int32Array,
  minus: Int32Array,
  count: number,
  sortMinus: boolean,
): number {
  const { marks, cellsPlus, cellsMinus } = scratch;
  for (let t = 0; t < count; t++) marks[plus[2 * t] * n + plus[2 * t + 1]] += 1;
  for (let t = 0; t < count; t++) marks[minus[2 * t] * n + minus[2 * t + 1]] -= 1;
  const a = unsharedCells(marks, n, plus, count, cellsPlus);
  const b = unsharedCells(marks, n, minus, count, cellsMinus);
  for (let t = 0; t < a; t++) marks[cellsPlus[t]] = 0; // shared edges are back at 0 already
  for (let t = 0; t < b; t++) marks[cellsMinus[t]] = 0;
  sortByWeight(cellsPlus, a, p);
  if (sortMinus) sortByWeight(cellsMinus, b, p);
  let gap = 0;
  for (let t = 0; t < a; t++) gap += 2 * p[cellsPlus[t]];
  for (let t = 0; t < b; t++) gap += -2 * p[cellsMinus[t]];
  return gap > 0 ? gap : 0;
}

/** Work buffers of {@link forestGap}. */
interface GapScratch {
  readonly marks: Int8Array;
  readonly cellsPlus: Int32Array;
  readonly cellsMinus: Int32Array;
}

function gapScratch(n: number, count: number): GapScratch {
  return {
    marks: new Int8Array(n * n),
    cellsPlus: new Int32Array(count),
    cellsMinus: new Int32Array(count),
  };
}

/** Copies a forest's edges (pairs i < j) into a flat pair list. */
function flattenEdges(forest: Forest, out: Int32Array): void {
  const edges = forest.edges;
  for (let t = 0; t < edges.length; t++) {
    out[2 * t] = edges[t][0];
    out[2 * t + 1] = edges[t][1];
  }
}

/**
 * The constrained solve of {@link partialFyLoss} for fixed (k, M_Ω): writes the edges of the
 * constrained forest of a perturbed Σ into a flat pair list. Checks M_Ω's consistency and k's
 * feasibility once, up front. Label-derived M_Ω (the conflicting groups form a clique) go to the
 * prepared {@link labelForestSolver}; other M_Ω, and the exact solver, through the public
 * solvers.
 */
function constrainedEdges(
  n: number,
  k: number,
  constraints: Constraints,
  exact: boolean,
): (p: Matrix, out: Int32Array) => void {
  if (exact) {
    return (p, out) => flattenEdges(exactConstrainedSpanningForest(p, k, constraints), out);
  }
  const s = groupStructure(constraints);
  assertFeasibleK(s, k, n);
  const terminal = terminalClique(s);
  if (terminal === null) {
    return (p, out) => flattenEdges(unsafeConstrainedSpanningForest(p, k, constraints), out);
  }
  const solver = labelForestSolver(s, terminal, k);
  return (p, out) => solver.solve(p.data, out);
}

/**
 * The Fenchel–Young target Y for labelled points: the adjacency of the maximum-weight forest
 * of Σ whose trees are exactly the label classes (each class spanned by its maximum spanning
 * tree, so ⟨Σ, Y⟩ is the best any forest with these clusters scores). Pass it with
 * k = the number of classes to {@link fyLoss}.
 *
 * @param sigma Symmetric, finite similarity matrix.
 * @param labels One integer class per point (length n; every point labelled).
 * @returns Y (zero diagonal, entries 0/1) and k, its number of trees.
 * @throws {TypeError | RangeError} If `sigma` is not a similarity matrix, or `labels` is not n
 * integers.
 *
 * @example Train Σ towards the clusters {0, 1} and {2, 3}
 * ```ts
 * import { fyLoss, fyTarget, negSquaredDistances } from "../../mod.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [2], [3]]);
 * const { target, k } = fyTarget(sigma, [0, 0, 1, 1]);
 * assert.equal(k, 2);
 * const { loss } = fyLoss({ k, epsilon: 0.1, samples: 10, noise: "gaussian" })(sigma, target, 0);
 * assert.ok(loss >= 0);
 * ```
 *
 * @category Losses
 */
export function fyTarget(
  sigma: Matrix,
  labels: readonly number[] | Int32Array,
): { readonly target: Matrix; readonly k: number } {
  assertSimilarity("sigma", sigma);
  const list = Array.from(labels as ArrayLike<number>);
  if (list.length !== sigma.n) {
    throw new RangeError(
      `Invalid labels: ${list.length} labels for sigma of n = ${sigma.n} points`,
    );
  }
  list.forEach((l, i) => {
    if (!Number.isInteger(l)) {
      throw new TypeError(
        `Invalid labels[${i}] = ${show(l)}: expected an integer (every point labelled; for ` +
          `partial labels use partialFyLoss with constraintsFromLabels)`,
      );
    }
  });
  const k = new Set(list).size;
  // Every point labelled: the constrained solver is exact (a max spanning tree per class).
  const forest = constrainedSpanningForest(sigma, k, constraintsFromLabels(list));
  return { target: forest.adjacency, k };
}

/**
 * The perturbed Fenchel–Young loss against a target k-forest Y (Definition 7):
 * loss ≈ F_ε(Σ) − ⟨Σ, Y⟩ ≥ 0 and grad = Â_ε(Σ) − Y, from the same noise draws (see the module
 * doc for the exact estimator). Returns a pure function of `(sigma, target, seed)`.
 *
 * @param opts ε, samples, noise, antithetic, and k.
 * @returns `(sigma, target, seed) => { loss, grad }`.
 * @throws {TypeError | RangeError} On invalid options (message names the option); the returned
 * function throws on an invalid `sigma`, `seed`, `k` for this n, or a `target` that is not the
 * adjacency of a k-forest on n points.
 *
 * @example Zero gradient in expectation when the target is the only sensible forest
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { maxSpanningForest } from "../forest/spanning_forest.ts";
 * import { fyLoss } from "./fy_loss.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -Math.abs(a - b))));
 * const target = maxSpanningForest(sigma, 2).adjacency;
 * const { loss, grad } = fyLoss({ k: 2, epsilon: 0.01, samples: 20, noise: "gaussian" })(
 *   sigma, target, 1);
 * assert.equal(loss, 0);
 * assert.ok(grad.data.every((g) => g === 0));
 * ```
 *
 * @category Losses
 */
export function fyLoss(
  opts: FyLossOptions,
): (sigma: Matrix, target: Matrix, seed: number) => LossAndGradient {
  const { perturbed, k } = checkLossOptions(opts);
  return (sigma, target, seed) => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    const n = sigma.n;
    assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
    const targetEdges = forestAdjacencyEdges("target", target, n, k);
    const m = n - k, targetFlat = new Int32Array(targetEdges.flat());
    const work = maxForestWork(n), free = new Int32Array(2 * m), scratch = gapScratch(n, m);
    const counts = new Float64Array(n * n);
    let total = 0;
    forEachPerturbation(sigma, perturbed, seed, ({ sigma: p }) => {
      maxForestEdges(p.data, k, work, free);
      addEdges(counts, n, free, m, 1);
      total += forestGap(scratch, p.data, n, free, targetFlat, m, false);
    });
    const grad = symmetricMean(counts, n, perturbed.samples, 0);
    for (const [i, j] of targetEdges) {
      grad.data[i * n + j] -= 1;
      grad.data[j * n + i] -= 1;
    }
    return { loss: total / perturbed.samples, grad };
  };
}

/**
 * The partial Fenchel–Young loss (Definition 8, Proposition 1):
 * loss ≈ F_ε(Σ) − F_ε(Σ; M_Ω) ≥ 0 and grad = Â_ε(Σ) − Â_ε(Σ; M_Ω), the unconstrained and the
 * constrained solve sharing each noise draw Z_b (common random numbers). Exactly zero loss and
 * gradient when M_Ω holds no information. See the module doc for the guarantee of the default
 * greedy constrained solver.
 *
 * @param opts ε, samples, noise, antithetic, k, and the constrained solver.
 * @returns `(sigma, constraints, seed) => { loss, grad }`.
 * @throws {TypeError | RangeError} On invalid options (message names the option); the returned
 * function throws on an invalid `sigma`, `seed`, `constraints` or `k` for this n, and
 * `InfeasibleConstraintsError` when no k-forest satisfies M_Ω.
 *
 * @example Labels that disagree with Σ give a positive loss, and the gradient raises the
 * similarity of the must-link pair
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { constraintsFromLabels } from "../constrained/constrained_forest.ts";
 * import { partialFyLoss } from "./fy_loss.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -Math.abs(a - b))));
 * const labels = constraintsFromLabels([0, 1, 1, null]); // 1 and 2 together, 0 apart
 * const { loss, grad } = partialFyLoss({ k: 2, epsilon: 0.1, samples: 20, noise: "gaussian" })(
 *   sigma, labels, 1);
 * assert.ok(loss > 0);
 * assert.ok(grad.data[1 * 4 + 2] < 0); // descent direction −grad raises Σ_12
 * ```
 *
 * @category Losses
 */
export function partialFyLoss(
  opts: FyLossOptions,
): (sigma: Matrix, constraints: Constraints, seed: number) => LossAndGradient {
  const { perturbed, k, exact } = checkLossOptions(opts);
  return (sigma, constraints, seed) => {
    assertSimilarity("sigma", sigma);
    assertSeed(seed);
    const n = sigma.n;
    assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
    assertConstraints("constraints", constraints, n);
    const constrained = constrainedEdges(n, k, constraints, exact);
    const m = n - k, work = maxForestWork(n), scratch = gapScratch(n, m);
    const free = new Int32Array(2 * m), bound = new Int32Array(2 * m);
    const counts = new Float64Array(n * n);
    let total = 0;
    forEachPerturbation(sigma, perturbed, seed, ({ sigma: p }) => {
      maxForestEdges(p.data, k, work, free);
      constrained(p, bound);
      addEdges(counts, n, free, m, 1);
      addEdges(counts, n, bound, m, -1);
      total += forestGap(scratch, p.data, n, free, bound, m, true);
    });
    return {
      loss: total / perturbed.samples,
      grad: symmetricMean(counts, n, perturbed.samples, 0),
    };
  };
}
