/**
 * The fast constrained solver (Definition 5) against oracles written here, independent of the
 * library (no DisjointSets, no `satisfies`, no library MST):
 *
 * - `bruteForce`: every partition of the points into exactly k blocks that keeps must-link pairs
 *   together and cannot-link pairs apart, each block spanned by its maximum spanning tree;
 * - `referenceGreedy`: the reference code's Kruskal (must-link pairs first, merges joining a
 *   cannot-linked pair rejected, stop at k components).
 *
 * Properties on general (not label-derived) M_Ω, fixtures where each stage of the solver is what
 * reaches the optimum (the mutation check, scripts/mutation_check.ts, confirms that removing the
 * stage loses it), and the README's optimality rate at n = 6.
 */
import assert from "node:assert/strict";
import { fromData, type Matrix } from "../core/matrix.ts";
import {
  constrainedSpanningForest,
  type Constraints,
  constraintsFromLabels,
  constraintsFromMatrix,
} from "./constrained_forest.ts";
import { InfeasibleConstraintsError } from "../core/errors.ts";
import { testRng } from "../../props/mc_stats.ts";
import {
  bruteForcePartitions as bruteForce,
  constraintEntry as entry,
  referenceGreedy,
} from "../../props/brute_force.ts";

/** Σ = −‖x_i − x_j‖². */
function sigmaOf(x: readonly (readonly number[])[]): Matrix {
  const n = x.length, d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      d[i * n + j] = -x[i].reduce((s, v, a) => s + (v - x[j][a]) ** 2, 0);
    }
  }
  return fromData(n, d);
}

/** Checks the forest's shape and constraints by hand; returns ⟨A, Σ⟩ from its edges. */
function checkForest(
  sigma: Matrix,
  k: number,
  c: Constraints,
  f: { edges: readonly (readonly [number, number])[]; labels: Int32Array; value: number },
  what: string,
): number {
  const n = sigma.n;
  assert.equal(f.edges.length, n - k, what);
  // Acyclic with n − k edges ⇔ k components; labels are those components.
  const comp = Array.from({ length: n }, (_, i) => i);
  let value = 0;
  for (const [i, j] of f.edges) {
    const a = comp[i], b = comp[j];
    assert.notEqual(a, b, `cycle at (${i}, ${j}), ${what}`);
    for (let p = 0; p < n; p++) if (comp[p] === b) comp[p] = a;
    value += 2 * sigma.data[i * n + j];
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      assert.equal(comp[i] === comp[j], f.labels[i] === f.labels[j], `labels, ${what}`);
      if (i === j) continue;
      const e = entry(c, i, j);
      if (e === 1) assert.equal(comp[i], comp[j], `must-link (${i}, ${j}) broken, ${what}`);
      if (e === 0) assert.notEqual(comp[i], comp[j], `cannot-link (${i}, ${j}) broken, ${what}`);
    }
  }
  assert.ok(Math.abs(value - f.value) <= 1e-9 * (1 + Math.abs(value)), what);
  return value;
}

/** Constraints from strings such as "11.0": 1 must-link, 0 cannot-link, . unknown. */
function fromRows(rows: readonly string[]): Constraints {
  return constraintsFromMatrix(
    rows.map((r) => [...r].map((ch) => (ch === "." ? null : ch === "1" ? 1 : 0))),
  );
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a));

Deno.test("general M_Ω: never stuck where the reference greedy succeeds, never below it", () => {
  // 400 drawn instances: n ∈ [3, 8], points on a line or in the plane (one decimal: ties occur),
  // must-link / cannot-link densities varied so that both greedies sometimes get stuck.
  const rand = testRng(2718);
  let greedyStuck = 0, feasible = 0, beatGreedy = 0;
  for (let t = 0; t < 400; t++) {
    const n = 3 + Math.floor(rand() * 6), dim = 1 + (t % 2);
    const x = Array.from(
      { length: n },
      () => Array.from({ length: dim }, () => Math.round(rand() * 100) / 10),
    );
    const sigma = sigmaOf(x);
    const pm = [0.03, 0.08, 0.15][t % 3], pc = [0.05, 0.15, 0.3][Math.floor(t / 3) % 3];
    const rows: (0 | 1 | null)[][] = x.map(() => new Array(n).fill(null));
    for (let i = 0; i < n; i++) {
      rows[i][i] = 1;
      for (let j = i + 1; j < n; j++) {
        const r = rand();
        rows[i][j] = rows[j][i] = r < pm ? 1 : r < pm + pc ? 0 : null;
      }
    }
    const c = constraintsFromMatrix(rows), k = 1 + Math.floor(rand() * n);
    const what = `instance ${t}: x = ${JSON.stringify(x)}, k = ${k}, rows = ${
      JSON.stringify(rows.map((r) => r.map((v) => (v === null ? "." : v)).join("")))
    }`;
    const greedy = referenceGreedy(sigma, k, c), best = bruteForce(sigma, k, c);
    if (best > -Infinity) feasible++;
    if (best > -Infinity && greedy === -Infinity) greedyStuck++;
    let f;
    try {
      f = constrainedSpanningForest(sigma, k, c);
    } catch (e) {
      if (!(e instanceof InfeasibleConstraintsError)) throw e;
      // Allowed only where the reference greedy is stuck too (the documented limit).
      assert.equal(greedy, -Infinity, `threw where the reference greedy succeeds, ${what}`);
      continue;
    }
    assert.ok(best > -Infinity, `returned a forest on an infeasible instance, ${what}`);
    const value = checkForest(sigma, k, c, f, what);
    assert.ok(
      value >= greedy - 1e-9 * (1 + Math.abs(greedy)),
      `${value} < greedy ${greedy}, ${what}`,
    );
    assert.ok(value <= best + 1e-9 * (1 + Math.abs(best)), `${value} > optimum ${best}, ${what}`);
    if (value > greedy + 1e-9 * (1 + Math.abs(greedy))) beatGreedy++;
  }
  // The draws must exercise the cases the property is about: feasible instances, some where the
  // greedy is stuck although a forest exists, many where the solver beats it.
  assert.ok(
    feasible > 200 && greedyStuck > 0 && beatGreedy > 20,
    `${feasible} ${greedyStuck} ${beatGreedy}`,
  );
});

/**
 * Instances where one stage of the solver is what reaches the optimum (found by a search over
 * random instances with that stage removed; `deno task mutation` re-checks each).
 */
const FIXTURES: {
  stage: string;
  x: number[][];
  k: number;
  rows?: string[];
  labels?: (number | null)[];
  /** The reference greedy is optimal here (the stage is needed because the other one fails). */
  greedyOptimal?: boolean;
}[] = [
  {
    stage: "general M_Ω, second greedy candidate (plain Kruskal, pruned)",
    x: [[8.6], [5], [7.8], [8.4], [6], [7.4]],
    k: 3,
    rows: ["11.0.0", "11...0", "..11..", "0.11..", "....10", "00..01"],
  },
  {
    stage: "general M_Ω, first greedy candidate (the other one is stuck)",
    x: [[7, 9.3], [3.5, 6.7], [2.3, 2], [9.4, 10], [3, 7.3], [4.8, 6.2]],
    k: 4,
    rows: ["1...00", ".1...0", "..1...", "...1..", "0...11", "00..11"],
    greedyOptimal: true,
  },
  {
    stage: "general M_Ω, local search over must-link groups",
    x: [[3.9, 8.3], [3.2, 6.5], [1.7, 0.1], [8.5, 3.8], [7.3, 3.3], [5.1, 5.2], [2.7, 4.3]],
    k: 4,
    rows: ["10101..", "01.0.00", "1.1..0.", "00.1...", "1...100", ".00.010", ".0..001"],
  },
  {
    stage: "general M_Ω, a second local-search sweep",
    x: [[3.8], [2.8], [8.3], [5], [7.2], [1.1], [5.4], [3.1], [2.3]],
    k: 4,
    rows: [
      "1..0.1...",
      ".1..0....",
      "..11..1..",
      "0.11.....",
      ".0..1..1.",
      "1....1..0",
      "..1...1..",
      "....1..1.",
      ".....0..1",
    ],
  },
  {
    stage: "general M_Ω, the second candidate's pruning drops the lightest edges",
    x: [[5.7], [4.6], [2.3], [2.9], [7.3], [2.4], [2.9], [4.4], [3.4], [0.1], [6.3], [9.3]],
    k: 8,
    rows: [
      "1.......1...",
      ".1.......0..",
      "..1.........",
      "...1........",
      "....1.......",
      ".....1......",
      "......1.....",
      ".......1....",
      "1.......1...",
      ".0.......10.",
      ".........01.",
      "...........1",
    ],
  },
  {
    stage: "labels, merge/split moves",
    x: [[5.4, 4.2], [5.9, 7.1], [7.7, 2.9], [8.5, 9.7], [2.1, 9.6], [1.8, 9], [6.3, 2.6], [
      2.2,
      8.4,
    ]],
    k: 4,
    labels: [1, null, null, 2, 1, 1, null, null],
  },
  {
    stage: "labels, moving a point that is not a leaf",
    x: [[7.7, 1], [7, 4.3], [9.4, 9.1], [4.2, 9.7], [8.5, 4.4], [7.7, 4.3], [4.5, 6.8], [9.8, 1.3]],
    k: 5,
    labels: [null, 0, null, 2, 0, null, 1, 2],
  },
  {
    stage: "labels, a second leaf-move sweep",
    x: [
      [4.4, 0.2],
      [10, 1.6],
      [7.1, 7.8],
      [5.9, 0.7],
      [5.6, 8.8],
      [7.9, 7.9],
      [4.7, 5.3],
      [
        0.7,
        9.9,
      ],
      [0.8, 9.7],
      [1.8, 0.4],
      [3.2, 9.5],
      [8.2, 8.3],
      [8.5, 9.6],
    ],
    k: 2,
    labels: [1, 0, null, null, 0, null, null, null, 1, 0, 1, null, 0],
  },
  {
    stage: "labels, a second round of merge/split and point moves",
    x: [
      [5.7, 8.3],
      [8.6, 9.4],
      [1.7, 0.5],
      [9.1, 6.7],
      [4.3, 10],
      [4.9, 0.2],
      [0.8, 6.7],
      [
        5,
        0.3,
      ],
      [9.2, 5.8],
      [0.3, 9],
      [7.3, 2.9],
    ],
    k: 5,
    labels: [null, null, null, null, null, null, null, 0, 1, 1, 2],
  },
];

Deno.test("fixtures: each stage of the fast solver reaches the optimum the others miss", async (t) => {
  for (const fx of FIXTURES) {
    await t.step(fx.stage, () => {
      const sigma = sigmaOf(fx.x);
      const c = fx.rows ? fromRows(fx.rows) : constraintsFromLabels(fx.labels!);
      const best = bruteForce(sigma, fx.k, c);
      assert.ok(best > -Infinity);
      const f = constrainedSpanningForest(sigma, fx.k, c);
      const value = checkForest(sigma, fx.k, c, f, fx.stage);
      assert.ok(close(value, best), `${value} vs optimum ${best}`);
      // The reference greedy alone does not get there (or gets stuck), except where it is the
      // stage under test.
      const greedy = referenceGreedy(sigma, fx.k, c);
      if (fx.greedyOptimal) assert.ok(close(greedy, best));
      else assert.ok(greedy < best - 1e-9, "greedy already optimal");
    });
  }
});

Deno.test("optimality rate with unlabelled points (README: 95.4 % at n = 6)", () => {
  // The README's distribution: points uniform in [0, 1]², each labelled with probability ½ among
  // 2–3 classes, k drawn between the labelled classes and n. N = 2000 instances. The floor is
  // 95.4 % minus 3.09 standard deviations of the difference between this rate and the README's
  // (itself measured on 2000 instances): √(2 · 0.954 · 0.046 / 2000) = 0.66 %, floor 93.3 %
  // (false-alarm rate 1e-3 one-sided, for a solver as good as documented).
  const rand = testRng(6);
  const n = 6, N = 2000;
  let optimal = 0, counted = 0;
  while (counted < N) {
    const x = Array.from({ length: n }, () => [rand(), rand()]);
    const classes = 2 + Math.floor(rand() * 2);
    const labels = x.map(() => (rand() < 0.5 ? null : Math.floor(rand() * classes)));
    const present = new Set(labels.filter((l) => l !== null)).size;
    const free = labels.filter((l) => l === null).length;
    const k = Math.max(1, present) + Math.floor(rand() * (free + 1));
    if (k > n) continue;
    counted++;
    const sigma = sigmaOf(x), c = constraintsFromLabels(labels);
    const best = bruteForce(sigma, k, c);
    const f = constrainedSpanningForest(sigma, k, c);
    if (f.value >= best - 1e-9 * (1 + Math.abs(best))) optimal++;
  }
  const rate = optimal / N;
  assert.ok(rate >= 0.933, `optimal in ${(100 * rate).toFixed(1)} % of ${N}`);
});
