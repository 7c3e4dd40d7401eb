/**
 * Partial supervision M_Ω (Definition 4) and the constrained maximum-weight k-spanning forest
 * A*_k(Σ; M_Ω) (Definition 5): the best k-forest whose clusters agree with every known pair.
 * This is the public entry of both definitions on a dense Σ; where each part lives:
 *
 * - Definition 4, the constraint type and its builders: `constraint_types.ts`, re-exported here.
 * - The must-link groups and the feasibility of k, where every solver starts:
 *   `_constraint_groups.ts`.
 * - The solvers of Definition 5 below; for label-derived M_Ω the fast one hands over to the
 *   O(n²) solver of `_label_forest.ts` (phases in `_point_moves.ts` and `_merge_split_moves.ts`,
 *   tree operations in `_cluster_trees.ts`).
 * - Definition 5 on a sparse graph, with M_Ω from partial labels: `constrained_forest_on_graph.ts`.
 *
 * Any partition of the points into k blocks is the cluster set of some k-forest (the graph is
 * complete), and the best forest for a fixed partition is a maximum spanning tree inside each
 * block. So Definition 5 asks for the best partition into exactly k blocks that keeps every
 * must-link pair together and every cannot-link pair apart. Two solvers:
 *
 * - {@link constrainedSpanningForest} (fast, the default): the better of two greedy forests —
 *   (a) the reference code's Kruskal with must-link pairs first and cannot-link merges rejected,
 *   (b) plain Kruskal with cannot-link merges rejected, run until every must-link group is
 *   joined, then pruned back to k clusters by dropping the lightest removable edges —
 *   followed by a local search that moves one must-link group at a time to another cluster
 *   while that strictly improves the value.
 *   Guarantees: its value is ≥ the reference greedy's; it is exact whenever every point carries
 *   a label (the supervised setting); for label-derived constraints it finds a feasible forest
 *   whenever one exists. With unlabelled points it can be sub-optimal (the problem is
 *   combinatorial; the optimality rate measured against the exact solver is in the README).
 * - {@link exactConstrainedSpanningForest}: enumerates the partitions of the must-link groups,
 *   exact for any M_Ω, exponential — for small n and as the oracle of the property tests.
 *
 * @module
 */
import { assertFeasibleK, type GroupStructure, groupStructure } from "./_constraint_groups.ts";
import { assertConstraints, CANNOT_LINK, type Constraints, MUST_LINK } from "./constraint_types.ts";
import { InfeasibleConstraintsError } from "../core/errors.ts";
import { labelForestSolver, terminalClique } from "./_label_forest.ts";
import { assertSimilarity, type Matrix } from "../core/matrix.ts";
import { DisjointSets, type Forest, forestFromEdges } from "../forest/spanning_forest.ts";

// The constraint type and its builders live below the solvers (imports run one way); this module
// re-exports them so that it is the one place to import constraints from.
export * from "./constraint_types.ts";

/** Indices 0..m−1 of the pairs, sorted by the given comparator. */
function pairOrder(m: number, before: (p: number, q: number) => number): Int32Array {
  const order = new Int32Array(m);
  for (let t = 0; t < m; t++) order[t] = t;
  return order.sort(before);
}

/**
 * Kruskal over pairs in the given order, rejecting merges of cannot-linked components, until
 * `done(components)` holds. Returns accepted edges (in acceptance order) and the union–find.
 */
function kruskalWithRejection(
  c: Constraints,
  order: Int32Array,
  pi: Int32Array,
  pj: Int32Array,
  done: (sets: DisjointSets) => boolean,
): { edges: [number, number][]; sets: DisjointSets } {
  const n = c.n, sets = new DisjointSets(n);
  // conflict[r * n + s] for current roots r, s: some cannot-link pair spans the two components.
  const conflict = new Uint8Array(n * n);
  for (let t = 0; t < n * n; t++) conflict[t] = c.data[t] === CANNOT_LINK ? 1 : 0;
  const edges: [number, number][] = [];
  for (let t = 0; t < order.length && !done(sets); t++) {
    const i = pi[order[t]], j = pj[order[t]];
    const ri = sets.find(i), rj = sets.find(j);
    if (ri === rj || conflict[ri * n + rj]) continue;
    const r = sets.union(ri, rj), other = r === ri ? rj : ri;
    for (let u = 0; u < n; u++) {
      const merged = conflict[r * n + u] | conflict[other * n + u];
      conflict[r * n + u] = conflict[u * n + r] = merged;
    }
    edges.push([i, j]);
  }
  return { edges, sets };
}

function allGroupsJoined(s: GroupStructure, sets: DisjointSets, n: number): boolean {
  const rootOf = new Int32Array(s.groups).fill(-1);
  for (let i = 0; i < n; i++) {
    const g = s.group[i], r = sets.find(i);
    if (rootOf[g] === -1) rootOf[g] = r;
    else if (rootOf[g] !== r) return false;
  }
  return true;
}

/** Drops the lightest edges whose removal keeps every must-link group whole, down to k trees. */
function pruneToK(
  s: GroupStructure,
  sigma: Matrix,
  edges: [number, number][],
  k: number,
): [number, number][] | null {
  const n = sigma.n;
  let kept = edges.slice();
  let components = n - kept.length;
  const byWeight = kept.slice().sort((a, b) =>
    sigma.data[a[0] * n + a[1]] - sigma.data[b[0] * n + b[1]]
  );
  for (const e of byWeight) {
    if (components >= k) break;
    const rest = kept.filter((f) => f !== e);
    const sets = new DisjointSets(n);
    for (const [a, b] of rest) sets.union(a, b);
    if (allGroupsJoined(s, sets, n)) {
      kept = rest;
      components++;
    }
  }
  return components === k ? kept : null;
}

function edgeValue(sigma: Matrix, edges: ReadonlyArray<readonly [number, number]>): number {
  let v = 0;
  for (const [i, j] of edges) v += 2 * sigma.data[i * sigma.n + j];
  return v;
}

/**
 * A*_k(Σ; M_Ω) (Definition 5), fast greedy: the better of the reference greedy (must-link pairs
 * first, cannot-link merges rejected) and a rejection-Kruskal pruned back to k clusters. See the
 * module doc for its guarantees: exact when every point is labelled; never worse than the
 * reference; for label-derived constraints feasible whenever a feasible forest exists. Cost
 * O(n² log n) (sort of the pairs) + O(n²) for the rejection bookkeeping.
 *
 * @param sigma Symmetric, finite similarity matrix.
 * @param k Number of clusters, an integer in [1, n].
 * @param constraints M_Ω for the same n points.
 * @returns A forest with k trees whose clusters satisfy every known pair.
 * @throws {TypeError | RangeError} On an invalid `sigma`, `k` or `constraints`.
 * @throws {InfeasibleConstraintsError} If the constraints contradict each other, leave fewer
 * than k groups, or cannot-link more than k groups mutually — or (general M_Ω only) if the
 * greedy finds no feasible forest, in which case the message says the instance may still be
 * feasible (deciding it is graph colouring) and {@link exactConstrainedSpanningForest} decides.
 *
 * @example Must-link pulls a far point in
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { constrainedSpanningForest, constraintsFromLabels } from "./constrained_forest.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2))));
 * const f = constrainedSpanningForest(sigma, 2, constraintsFromLabels([0, null, null, 0]));
 * assert.equal(f.labels[0], f.labels[3]);
 * assert.equal(f.k, 2);
 * ```
 *
 * @category Constrained forests
 */
export function constrainedSpanningForest(
  sigma: Matrix,
  k: number,
  constraints: Constraints,
): Forest {
  assertSimilarity("sigma", sigma);
  assertConstraints("constraints", constraints, sigma.n);
  return unsafeConstrainedSpanningForest(sigma, k, constraints);
}

/**
 * {@link constrainedSpanningForest} without validating `sigma` and `constraints` (for hot loops
 * whose inputs are valid by construction). `k` and feasibility are still checked.
 *
 * @param sigma Symmetric, finite similarity matrix (not checked).
 * @param k Number of clusters.
 * @param constraints M_Ω for the same n points (not checked).
 * @returns The forest.
 * @throws {RangeError | InfeasibleConstraintsError} As {@link constrainedSpanningForest}.
 *
 * @example
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { constraintsFromLabels, unsafeConstrainedSpanningForest } from "./constrained_forest.ts";
 * const f = unsafeConstrainedSpanningForest(matrix([[0, 1], [1, 0]]), 2, constraintsFromLabels([0, 1]));
 * if (f.edges.length !== 0) throw new Error();
 * ```
 *
 * @category Constrained forests
 */
export function unsafeConstrainedSpanningForest(
  sigma: Matrix,
  k: number,
  constraints: Constraints,
): Forest {
  const n = sigma.n, s = groupStructure(constraints);
  assertFeasibleK(s, k, n);
  const terminal = terminalClique(s);
  if (terminal !== null) {
    const flat = new Int32Array(2 * (n - k));
    labelForestSolver(s, terminal, k).solve(sigma.data, flat);
    const edges: [number, number][] = [];
    for (let t = 0; t < n - k; t++) edges.push([flat[2 * t], flat[2 * t + 1]]);
    edges.sort((e, f) => sigma.data[f[0] * n + f[1]] - sigma.data[e[0] * n + e[1]]);
    return forestFromEdges(sigma, edges);
  }
  const m = (n * (n - 1)) / 2, pi = new Int32Array(m), pj = new Int32Array(m);
  const w = new Float64Array(m), must = new Uint8Array(m);
  for (let i = 0, t = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, t++) {
      pi[t] = i;
      pj[t] = j;
      w[t] = sigma.data[i * n + j];
      must[t] = constraints.data[i * n + j] === MUST_LINK ? 1 : 0;
    }
  }
  const candidates: [number, number][][] = [];
  // (a) Reference greedy: explicit must-link pairs first (the "+range bias"), then by weight.
  const biased = pairOrder(m, (p, q) => must[q] - must[p] || w[q] - w[p] || p - q);
  const a = kruskalWithRejection(constraints, biased, pi, pj, (sets) => sets.count === k);
  if (a.sets.count === k) candidates.push(a.edges);
  // (b) Plain order; keep merging until every must-link group is whole, then prune back to k.
  const plain = pairOrder(m, (p, q) => w[q] - w[p] || p - q);
  const b = kruskalWithRejection(
    constraints,
    plain,
    pi,
    pj,
    (sets) => sets.count <= k && allGroupsJoined(s, sets, n),
  );
  if (b.sets.count <= k && allGroupsJoined(s, b.sets, n)) {
    const pruned = pruneToK(s, sigma, b.edges, k);
    if (pruned) candidates.push(pruned);
  }
  if (candidates.length === 0) {
    throw new InfeasibleConstraintsError(
      `Found no k = ${k} forest satisfying the constraints with the greedy; deciding feasibility for general cannot-link structures is graph colouring, so the instance may still be feasible: try exactConstrainedSpanningForest for small n`,
    );
  }
  let best = candidates[0];
  for (const cand of candidates) if (edgeValue(sigma, cand) > edgeValue(sigma, best)) best = cand;
  const refined = refineByMoves(sigma, s, best);
  refined.sort((e, f) => sigma.data[f[0] * n + f[1]] - sigma.data[e[0] * n + e[1]]);
  return forestFromEdges(sigma, refined);
}

/** Upper bound on improvement sweeps of {@link refineByMoves} (each sweep is O(n · k · n²/k²)). */
const MAX_SWEEPS = 10;

/**
 * Local search on the partition behind a feasible forest: move one must-link group at a time to
 * another cluster when that raises Σ_blocks MST(block) and keeps every cannot-link pair apart and
 * every cluster non-empty. Each accepted move strictly improves the value, so the result is never
 * worse than its start. Fully labelled problems admit no move (every group is cannot-linked to
 * every other cluster), so exactness there is untouched.
 */
function refineByMoves(
  sigma: Matrix,
  s: GroupStructure,
  edges: [number, number][],
): [number, number][] {
  const n = sigma.n, m = s.groups, sets = new DisjointSets(n);
  for (const [a, b] of edges) sets.union(a, b);
  const rootBlock = new Map<number, number>();
  const blockOfGroup = new Int32Array(m);
  const groupMembers: number[][] = Array.from({ length: m }, () => []);
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (!rootBlock.has(r)) rootBlock.set(r, rootBlock.size);
    blockOfGroup[s.group[i]] = rootBlock.get(r)!;
    groupMembers[s.group[i]].push(i);
  }
  const k = rootBlock.size;
  const blockGroups: Set<number>[] = Array.from({ length: k }, () => new Set());
  for (let g = 0; g < m; g++) blockGroups[blockOfGroup[g]].add(g);
  const pointsOf = (groups: Iterable<number>) => [...groups].flatMap((g) => groupMembers[g]);
  const blockSum = blockGroups.map((gs) => blockTree(sigma, pointsOf(gs)).sum);
  let scale = 1;
  for (let t = 0; t < sigma.data.length; t++) scale = Math.max(scale, Math.abs(sigma.data[t]));
  const eps = 1e-12 * scale * n;
  for (let sweep = 0, improved = true; improved && sweep < MAX_SWEEPS; sweep++) {
    improved = false;
    for (let g = 0; g < m; g++) {
      const from = blockOfGroup[g];
      if (blockGroups[from].size === 1) continue;
      const rest = [...blockGroups[from]].filter((h) => h !== g);
      const fromSum = blockTree(sigma, pointsOf(rest)).sum;
      for (let to = 0; to < k; to++) {
        if (to === from) continue;
        let ok = true;
        for (const h of blockGroups[to]) if (s.conflict[g * m + h]) ok = false;
        if (!ok) continue;
        const toSum = blockTree(sigma, [...pointsOf(blockGroups[to]), ...groupMembers[g]]).sum;
        if (fromSum + toSum > blockSum[from] + blockSum[to] + eps) {
          blockGroups[from].delete(g);
          blockGroups[to].add(g);
          blockOfGroup[g] = to;
          blockSum[from] = fromSum;
          blockSum[to] = toSum;
          improved = true;
          break;
        }
      }
    }
  }
  return blockGroups.flatMap((gs) => blockTree(sigma, pointsOf(gs)).edges);
}

/** Maximum spanning tree of the points in `members` (dense Prim); returns edges and weight sum. */
function blockTree(sigma: Matrix, members: number[]): { edges: [number, number][]; sum: number } {
  const n = sigma.n, size = members.length;
  const best = new Float64Array(size).fill(-Infinity), from = new Int32Array(size).fill(-1);
  const done = new Uint8Array(size);
  const edges: [number, number][] = [];
  let sum = 0, v = 0;
  if (size === 0) return { edges, sum };
  done[0] = 1;
  for (let step = 1; step < size; step++) {
    let next = -1;
    for (let u = 0; u < size; u++) {
      if (done[u]) continue;
      const wv = sigma.data[members[v] * n + members[u]];
      if (wv > best[u]) {
        best[u] = wv;
        from[u] = v;
      }
      if (next === -1 || best[u] > best[next]) next = u;
    }
    done[next] = 1;
    const a = members[next], b = members[from[next]];
    edges.push([Math.min(a, b), Math.max(a, b)]);
    sum += best[next];
    v = next;
  }
  return { edges, sum };
}

/** Largest number of must-link groups {@link exactConstrainedSpanningForest} accepts. */
export const EXACT_MAX_GROUPS = 14;

/**
 * A*_k(Σ; M_Ω) exactly (Definition 5), for any M_Ω: enumerates every partition of the must-link
 * groups into exactly k blocks with no cannot-link pair inside a block, and spans each block by
 * its maximum spanning tree. Exponential in the number of groups (Bell numbers): meant for
 * small problems and as the oracle of the property tests.
 *
 * @param sigma Symmetric, finite similarity matrix.
 * @param k Number of clusters.
 * @param constraints M_Ω for the same n points.
 * @returns An optimal constrained forest.
 * @throws {TypeError | RangeError} On invalid input, or more than {@link EXACT_MAX_GROUPS}
 * must-link groups.
 * @throws {InfeasibleConstraintsError} If no k-forest satisfies the constraints.
 *
 * @example The reference greedy's k = 1 trap (shared notes): must-link (2, 3) holds anyway
 * ```ts
 * import { matrix } from "../core/matrix.ts";
 * import { constraintsFromMatrix, exactConstrainedSpanningForest } from "./constrained_forest.ts";
 * import assert from "node:assert/strict";
 * const x = [[-1, -1], [1, -1], [4, 0], [-6, 0]];
 * const sigma = matrix(x.map((p) => x.map((q) => -((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2))));
 * const c = constraintsFromMatrix([
 *   [1, null, null, null], [null, 1, null, null], [null, null, 1, 1], [null, null, 1, 1]]);
 * assert.equal(exactConstrainedSpanningForest(sigma, 1, c).value, -80); // total distance 40
 * ```
 *
 * @category Constrained forests
 */
export function exactConstrainedSpanningForest(
  sigma: Matrix,
  k: number,
  constraints: Constraints,
): Forest {
  assertSimilarity("sigma", sigma);
  assertConstraints("constraints", constraints, sigma.n);
  const n = sigma.n, s = groupStructure(constraints);
  assertFeasibleK(s, k, n);
  if (s.groups > EXACT_MAX_GROUPS) {
    throw new RangeError(
      `Invalid constraints for the exact solver: ${s.groups} must-link groups exceed the limit of ${EXACT_MAX_GROUPS} (the search is exponential); use constrainedSpanningForest`,
    );
  }
  const m = s.groups, members: number[][] = Array.from({ length: m }, () => []);
  for (let i = 0; i < n; i++) members[s.group[i]].push(i);
  const blockOf = new Int32Array(m);
  let bestValue = -Infinity, bestEdges: [number, number][] = [];
  const visit = (g: number, blocks: number) => {
    if (blocks + (m - g) < k) return; // too few groups left to open k blocks
    if (g === m) {
      if (blocks !== k) return;
      const points: number[][] = Array.from({ length: k }, () => []);
      for (let h = 0; h < m; h++) points[blockOf[h]].push(...members[h]);
      let sum = 0;
      const edges: [number, number][] = [];
      for (const p of points) {
        const t = blockTree(sigma, p);
        sum += t.sum;
        edges.push(...t.edges);
      }
      if (2 * sum > bestValue) {
        bestValue = 2 * sum;
        bestEdges = edges;
      }
      return;
    }
    for (let b = 0; b <= blocks && b < k; b++) {
      let ok = true;
      for (let h = 0; h < g && ok; h++) if (blockOf[h] === b && s.conflict[g * m + h]) ok = false;
      if (!ok) continue;
      blockOf[g] = b;
      visit(g + 1, b === blocks ? blocks + 1 : blocks);
    }
  };
  visit(0, 0);
  if (bestValue === -Infinity) {
    throw new InfeasibleConstraintsError(
      `No k = ${k} forest satisfies the constraints (exhaustive search over ${m} must-link groups)`,
    );
  }
  bestEdges.sort((e, f) => sigma.data[f[0] * n + f[1]] - sigma.data[e[0] * n + e[1]]);
  return forestFromEdges(sigma, bestEdges);
}
