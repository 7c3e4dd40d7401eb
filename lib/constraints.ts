/**
 * Partial supervision M_Ω (Definition 4) and the constrained maximum-weight k-spanning forest
 * A*_k(Σ; M_Ω) (Definition 5): the best k-forest whose clusters agree with every known pair.
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
import { InfeasibleConstraintsError, show } from "./errors.ts";
import { assertIntegerInRange } from "./errors.ts";
import { assertSimilarity, type Matrix } from "./matrix.ts";
import { DisjointSets, type Forest, forestFromEdges } from "./spanning_forest.ts";

/** Known pair: the two points must be in the same cluster (M_Ω entry 1). */
export const MUST_LINK: 1 = 1 as const;
/** Known pair: the two points must be in different clusters (M_Ω entry 0). */
export const CANNOT_LINK: 0 = 0 as const;
/** Pair outside Ω: no information. */
export const UNKNOWN: -1 = -1 as const;

/**
 * Partial connectivity M_Ω (Definition 4): an n × n row-major matrix with entries
 * {@link MUST_LINK} (1), {@link CANNOT_LINK} (0) or {@link UNKNOWN} (−1); symmetric, diagonal 1.
 */
export interface Constraints {
  /** Number of points. */
  readonly n: number;
  /** The n × n entries in {1, 0, −1}. */
  readonly data: Int8Array;
}

/**
 * M_Ω from a partially labelled batch: labelled pairs are must-link if their labels agree and
 * cannot-link otherwise; pairs with an unlabelled point are unknown; the diagonal is known (1).
 *
 * @param labels One entry per point: an integer class label, or `null` when unlabelled.
 * @returns The constraints.
 * @throws {TypeError} If `labels` is not an array or holds something other than an integer or null.
 * @throws {RangeError} If `labels` is empty.
 *
 * @example Two labelled classes and one unlabelled point
 * ```ts
 * import { constraintsFromLabels } from "./constraints.ts";
 * import assert from "node:assert/strict";
 * const c = constraintsFromLabels([7, 7, 3, null]);
 * assert.deepEqual([...c.data.subarray(0, 4)], [1, 1, 0, -1]);
 * ```
 */
export function constraintsFromLabels(labels: readonly (number | null)[]): Constraints {
  if (!Array.isArray(labels)) {
    throw new TypeError(`Expected labels to be an array of integers or null, got ${show(labels)}`);
  }
  const n = labels.length;
  if (n === 0) throw new RangeError("Invalid labels: at least one point is needed (n = 0)");
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l !== null && !Number.isInteger(l)) {
      throw new TypeError(`Invalid labels[${i}] = ${show(l)}: expected an integer or null`);
    }
  }
  // Unlabelled rows and columns stay UNKNOWN; labelled pairs compare their labels.
  const data = new Int8Array(n * n).fill(UNKNOWN);
  const labelled: number[] = [];
  for (let i = 0; i < n; i++) if (labels[i] !== null) labelled.push(i);
  for (const i of labelled) {
    const a = labels[i], row = i * n;
    for (const j of labelled) data[row + j] = labels[j] === a ? MUST_LINK : CANNOT_LINK;
  }
  for (let i = 0; i < n; i++) data[i * n + i] = MUST_LINK;
  return { n, data };
}

/**
 * M_Ω from a matrix of 1 (must-link), 0 (cannot-link) and `null` (unknown). The diagonal may be
 * 1 or null (a point is always with itself).
 *
 * @param rows Square, symmetric matrix of 0 / 1 / null.
 * @returns The constraints.
 * @throws {TypeError} If `rows` is not an array of arrays.
 * @throws {RangeError} If it is empty, ragged, asymmetric, holds another value, or has a 0 on
 * the diagonal.
 *
 * @example
 * ```ts
 * import { constraintsFromMatrix } from "./constraints.ts";
 * const c = constraintsFromMatrix([[1, 0, null], [0, 1, 1], [null, 1, 1]]);
 * if (c.data[2] !== -1) throw new Error();
 * ```
 */
export function constraintsFromMatrix(
  rows: readonly (readonly (0 | 1 | null)[])[],
): Constraints {
  if (!Array.isArray(rows)) {
    throw new TypeError(`Expected rows to be an array of arrays, got ${show(rows)}`);
  }
  const n = rows.length;
  if (n === 0) throw new RangeError("Invalid rows: at least one point is needed (n = 0)");
  const data = new Int8Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (!Array.isArray(row)) throw new TypeError(`Expected rows[${i}] to be an array`);
    if (row.length !== n) {
      throw new RangeError(`Invalid rows[${i}]: length ${row.length}, expected ${n} (square)`);
    }
    for (let j = 0; j < n; j++) {
      const v = row[j];
      if (v !== 0 && v !== 1 && v !== null) {
        throw new RangeError(`Invalid rows[${i}][${j}] = ${show(v)}: expected 0, 1 or null`);
      }
      data[i * n + j] = v === null ? (i === j ? MUST_LINK : UNKNOWN) : v;
    }
  }
  assertConstraints("rows", { n, data }, n);
  return { n, data };
}

/**
 * Checks a {@link Constraints} value: size `n`, entries in {1, 0, −1}, symmetric, diagonal 1.
 *
 * @param name Argument name used in messages.
 * @param c The value to check.
 * @param n Expected number of points.
 * @throws {TypeError} If `c` is not a Constraints object.
 * @throws {RangeError} If the size or any entry is wrong.
 *
 * @example
 * ```ts
 * import { assertConstraints, constraintsFromLabels } from "./constraints.ts";
 * assertConstraints("constraints", constraintsFromLabels([0, null]), 2);
 * ```
 */
export function assertConstraints(name: string, c: unknown, n: number): asserts c is Constraints {
  if (typeof c !== "object" || c === null || !((c as Constraints).data instanceof Int8Array)) {
    throw new TypeError(`Expected ${name} to be Constraints {n, data: Int8Array}, got ${show(c)}`);
  }
  const { n: cn, data } = c as Constraints;
  if (cn !== n || data.length !== n * n) {
    throw new RangeError(
      `Invalid ${name}: it is for ${
        show(cn)
      } points (data length ${data.length}) but the problem has n = ${n}`,
    );
  }
  if (constraintsLookValid(data, n)) return;
  // Something is wrong: find the first offending entry in row-major order for the message.
  for (let i = 0; i < n; i++) {
    if (data[i * n + i] !== MUST_LINK) {
      throw new RangeError(
        `Invalid ${name}[${i}][${i}] = ${data[i * n + i]}: the diagonal must be 1`,
      );
    }
    for (let j = 0; j < n; j++) {
      const v = data[i * n + j];
      if (v !== 1 && v !== 0 && v !== -1) {
        throw new RangeError(`Invalid ${name}[${i}][${j}] = ${v}: expected 1, 0 or -1`);
      }
      if (v !== data[j * n + i]) {
        throw new RangeError(
          `Invalid ${name}: not symmetric at (${i}, ${j}): ${v} vs ${data[j * n + i]}`,
        );
      }
    }
  }
}

/**
 * Fast validity check of M_Ω entries (diagonal 1, entries in {1, 0, −1}, symmetric): one pass for
 * the values and a symmetry check in 64 × 64 tiles, so the transposed reads stay in cache
 * (a plain column-order check is one cache miss per entry for large n).
 */
function constraintsLookValid(data: Int8Array, n: number): boolean {
  for (let t = 0; t < data.length; t++) {
    const v = data[t];
    if (v !== 1 && v !== 0 && v !== -1) return false;
  }
  for (let i = 0; i < n; i++) if (data[i * n + i] !== MUST_LINK) return false;
  const TILE = 64;
  for (let bi = 0; bi < n; bi += TILE) {
    for (let bj = bi; bj < n; bj += TILE) {
      const iEnd = Math.min(n, bi + TILE), jEnd = Math.min(n, bj + TILE);
      for (let i = bi; i < iEnd; i++) {
        for (let j = Math.max(bj, i + 1); j < jEnd; j++) {
          if (data[i * n + j] !== data[j * n + i]) return false;
        }
      }
    }
  }
  return true;
}

/**
 * Whether a clustering (labels per point) agrees with every known pair of M_Ω.
 *
 * @param c The constraints.
 * @param labels Cluster id per point.
 * @returns True iff must-link pairs share a label and cannot-link pairs do not.
 * @throws {RangeError} If `labels.length !== c.n`.
 *
 * @example
 * ```ts
 * import { constraintsFromLabels, satisfies } from "./constraints.ts";
 * const c = constraintsFromLabels([1, 1, 2]);
 * if (!satisfies(c, [0, 0, 1]) || satisfies(c, [0, 1, 1])) throw new Error();
 * ```
 */
export function satisfies(c: Constraints, labels: ArrayLike<number>): boolean {
  const n = c.n;
  if (labels.length !== n) {
    throw new RangeError(`Invalid labels: length ${labels.length}, expected n = ${n}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = c.data[i * n + j];
      if (v === MUST_LINK && labels[i] !== labels[j]) return false;
      if (v === CANNOT_LINK && labels[i] === labels[j]) return false;
    }
  }
  return true;
}

/** Must-link closure: group id per point and the cannot-link relation between groups. */
interface GroupStructure {
  readonly group: Int32Array;
  readonly groups: number;
  readonly conflict: Uint8Array; // groups × groups
}

/** Path of must-link pairs from a to b (BFS), for error messages. */
function mustLinkChain(c: Constraints, a: number, b: number): number[] {
  const n = c.n, prev = new Int32Array(n).fill(-1);
  prev[a] = a;
  const queue = [a];
  for (let q = 0; q < queue.length; q++) {
    const u = queue[q];
    for (let v = 0; v < n; v++) {
      if (prev[v] === -1 && c.data[u * n + v] === MUST_LINK) {
        prev[v] = u;
        queue.push(v);
      }
    }
  }
  const path = [b];
  while (path[0] !== a) path.unshift(prev[path[0]]);
  return path;
}

/**
 * Calls `visit(i, j)` for every pair i < j whose entry equals `value`. Reads the upper triangle
 * four entries at a time and skips words of four UNKNOWN entries (all of an unlabelled point's
 * row), so label-derived matrices cost well under one byte read per pair.
 */
function forEachPairWith(c: Constraints, value: number, visit: (i: number, j: number) => void) {
  const n = c.n, data = c.data;
  const aligned = data.byteOffset % 4 === 0;
  const words = aligned ? new Uint32Array(data.buffer, data.byteOffset, data.length >> 2) : null;
  for (let i = 0; i < n; i++) {
    const row = i * n, end = row + n;
    let t = row + i + 1;
    if (words !== null) {
      for (; t < end && (t & 3) !== 0; t++) if (data[t] === value) visit(i, t - row);
      for (; t + 4 <= end; t += 4) {
        if (words[t >> 2] === 0xffffffff) continue; // four UNKNOWN (−1) entries
        for (let u = t; u < t + 4; u++) if (data[u] === value) visit(i, u - row);
      }
    }
    for (; t < end; t++) if (data[t] === value) visit(i, t - row);
  }
}

/** Two 32-bit hash lanes over the entries of M_Ω, read four at a time. */
function contentHash(data: Int8Array): [number, number] {
  let h1 = 0x811c9dc5 ^ data.length, h2 = 0x3c6ef372;
  const words = data.byteOffset % 4 === 0
    ? new Int32Array(data.buffer, data.byteOffset, data.length >> 2)
    : null;
  let t = 0;
  if (words !== null) {
    for (let w = 0; w < words.length; w++) {
      const v = words[w];
      h1 = Math.imul(h1 ^ v, 0x01000193);
      h2 = Math.imul(h2 + v, 0x85ebca6b) ^ (h2 >>> 13);
    }
    t = words.length * 4;
  }
  for (; t < data.length; t++) {
    h1 = Math.imul(h1 ^ data[t], 0x01000193);
    h2 = Math.imul(h2 + data[t], 0x85ebca6b) ^ (h2 >>> 13);
  }
  return [h1, h2];
}

/**
 * Group structures of recently seen constraint matrices. A Monte-Carlo loss solves the same M_Ω
 * once per sample; the must-link closure and the conflict graph only depend on M_Ω, so they are
 * computed once and reused while the entries are unchanged (checked with a 64-bit content hash
 * each call: one fast pass over n² bytes, far cheaper than the closure itself).
 */
const structureOf = new WeakMap<Int8Array, { hash: [number, number]; s: GroupStructure }>();

function groupStructure(c: Constraints): GroupStructure {
  const hash = contentHash(c.data), hit = structureOf.get(c.data);
  if (
    hit !== undefined && hit.hash[0] === hash[0] && hit.hash[1] === hash[1] &&
    hit.s.group.length === c.n
  ) {
    return hit.s;
  }
  const s = computeGroupStructure(c);
  structureOf.set(c.data, { hash, s });
  return s;
}

function computeGroupStructure(c: Constraints): GroupStructure {
  const n = c.n;
  // Must-link closure with a local union–find (path halving) over the must-link pairs.
  const root = new Int32Array(n);
  for (let i = 0; i < n; i++) root[i] = i;
  const find = (x: number) => {
    while (root[x] !== x) x = root[x] = root[root[x]];
    return x;
  };
  forEachPairWith(c, MUST_LINK, (i, j) => {
    const a = find(i), b = find(j);
    if (a !== b) root[a < b ? b : a] = a < b ? a : b;
  });
  const group = new Int32Array(n).fill(-1), idOf = new Int32Array(n).fill(-1);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    const r = find(i);
    if (idOf[r] === -1) idOf[r] = groups++;
    group[i] = idOf[r];
  }
  const conflict = new Uint8Array(groups * groups);
  forEachPairWith(c, CANNOT_LINK, (i, j) => {
    const gi = group[i], gj = group[j];
    if (gi === gj) {
      throw new InfeasibleConstraintsError(
        `Contradictory constraints: points ${i} and ${j} are cannot-linked but joined by the must-link chain ${
          mustLinkChain(c, i, j).join(" → ")
        }`,
      );
    }
    conflict[gi * groups + gj] = 1;
  });
  // Symmetrise once instead of writing both triangles per pair.
  for (let g = 0; g < groups; g++) {
    for (let h = g + 1; h < groups; h++) {
      const v = conflict[g * groups + h] | conflict[h * groups + g];
      conflict[g * groups + h] = conflict[h * groups + g] = v;
    }
  }
  return { group, groups, conflict };
}

/** A greedy clique of mutually cannot-linked groups: a lower bound on the number of clusters. */
function conflictClique(s: GroupStructure): number[] {
  const cached = cliqueOf.get(s);
  if (cached !== undefined) return cached;
  const clique = greedyConflictClique(s);
  cliqueOf.set(s, clique);
  return clique;
}

const cliqueOf = new WeakMap<GroupStructure, number[]>();

function greedyConflictClique(s: GroupStructure): number[] {
  const m = s.groups, degree = new Int32Array(m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) degree[a] += s.conflict[a * m + b];
  const order = [...Array(m).keys()].sort((a, b) => degree[b] - degree[a] || a - b);
  const clique: number[] = [];
  for (const g of order) if (clique.every((h) => s.conflict[g * m + h])) clique.push(g);
  return clique;
}

/** Throws unless k is within the bounds that the constraints allow. */
function assertFeasibleK(s: GroupStructure, k: number, n: number): void {
  assertIntegerInRange("k", k, 1, n, `for n = ${n}`);
  if (k > s.groups) {
    throw new InfeasibleConstraintsError(
      `Cannot form k = ${k} clusters: must-link constraints leave only ${s.groups} groups, so at most ${s.groups} clusters are possible`,
    );
  }
  const clique = conflictClique(s);
  if (clique.length > k) {
    const reps = clique.map((g) => s.group.indexOf(g));
    throw new InfeasibleConstraintsError(
      `Cannot form k = ${k} clusters: ${clique.length} groups are mutually cannot-linked (e.g. points ${
        reps.join(", ")
      }), so at least ${clique.length} clusters are needed`,
    );
  }
}

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
 * import { matrix } from "./matrix.ts";
 * import { constrainedSpanningForest, constraintsFromLabels } from "./constraints.ts";
 * import assert from "node:assert/strict";
 * const x = [0, 1, 10, 11];
 * const sigma = matrix(x.map((a) => x.map((b) => -((a - b) ** 2))));
 * const f = constrainedSpanningForest(sigma, 2, constraintsFromLabels([0, null, null, 0]));
 * assert.equal(f.labels[0], f.labels[3]);
 * assert.equal(f.k, 2);
 * ```
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
 * import { matrix } from "./matrix.ts";
 * import { constraintsFromLabels, unsafeConstrainedSpanningForest } from "./constraints.ts";
 * const f = unsafeConstrainedSpanningForest(matrix([[0, 1], [1, 0]]), 2, constraintsFromLabels([0, 1]));
 * if (f.edges.length !== 0) throw new Error();
 * ```
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
    const edges = cliqueGreedy(sigma, k, s, terminal);
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

/**
 * The groups that carry a cannot-link, when they are pairwise cannot-linked (a clique of the
 * conflict graph: every label-derived M_Ω has this shape, the labelled classes being the clique);
 * null otherwise. The returned flags mark the clique's groups.
 */
function terminalClique(s: GroupStructure): Uint8Array | null {
  if (terminalOf.has(s)) return terminalOf.get(s)!;
  const terminal = computeTerminalClique(s);
  terminalOf.set(s, terminal);
  return terminal;
}

const terminalOf = new WeakMap<GroupStructure, Uint8Array | null>();

function computeTerminalClique(s: GroupStructure): Uint8Array | null {
  const m = s.groups, terminal = new Uint8Array(m);
  const members: number[] = [];
  for (let g = 0; g < m; g++) {
    for (let h = 0; h < m; h++) {
      if (s.conflict[g * m + h]) {
        terminal[g] = 1;
        members.push(g);
        break;
      }
    }
  }
  for (const g of members) {
    for (const h of members) if (g !== h && !s.conflict[g * m + h]) return null;
  }
  return terminal;
}

/**
 * Prim over groups of points ("contracted" nodes): the nodes are given as a CSR list of member
 * points; the weight between two nodes is the largest Σ between their members. The first node is
 * the root. Writes, for every other node in the order it joins, the edge (from, to, weight) that
 * attaches it. Same layout as the unconstrained Prim: the points outside the tree are kept in
 * increasing order in a compact list with their keys, so each joining point's row is read only
 * at the points that still matter (about n²/2 reads in all).
 */
function contractedPrim(
  data: Float64Array,
  n: number,
  nodeStart: Int32Array,
  nodePoints: Int32Array,
  nodeOf: Int32Array,
  edgeFrom: Int32Array,
  edgeTo: Int32Array,
  edgeWeight: Float64Array,
): void {
  const nodes = nodeStart.length - 1;
  const rest = new Int32Array(n), key = new Float64Array(n), from = new Int32Array(n);
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (nodeOf[i] === 0) continue;
    rest[size] = i;
    key[size] = -Infinity;
    from[size] = nodePoints[0]; // any point of the root: keeps edges valid on unchecked NaN input
    size++;
  }
  let node = 0;
  for (let step = 0; step < nodes - 1; step++) {
    const lo = nodeStart[node], hi = nodeStart[node + 1];
    let next = 0;
    for (let t = lo; t < hi; t++) {
      const v = nodePoints[t], row = v * n;
      if (t < hi - 1) {
        for (let p = 0; p < size; p++) {
          const w = data[row + rest[p]];
          if (w > key[p]) {
            key[p] = w;
            from[p] = v;
          }
        }
        continue;
      }
      // Last member: update and select in the same pass.
      let nextKey = -Infinity;
      for (let p = 0; p < size; p++) {
        const w = data[row + rest[p]];
        let b = key[p];
        if (w > b) {
          key[p] = b = w;
          from[p] = v;
        }
        if (b > nextKey) {
          nextKey = b;
          next = p;
        }
      }
    }
    const u = rest[next];
    edgeFrom[step] = from[next];
    edgeTo[step] = u;
    edgeWeight[step] = key[next];
    node = nodeOf[u];
    // The joining node leaves the list: one block move for a single point, a filter otherwise.
    if (nodeStart[node + 1] - nodeStart[node] === 1) {
      rest.copyWithin(next, next + 1, size);
      key.copyWithin(next, next + 1, size);
      from.copyWithin(next, next + 1, size);
      size--;
    } else {
      let kept = 0;
      for (let p = 0; p < size; p++) {
        if (nodeOf[rest[p]] === node) continue;
        rest[kept] = rest[p];
        key[kept] = key[p];
        from[kept] = from[p];
        kept++;
      }
      size = kept;
    }
  }
}

/**
 * Maximum spanning tree of the points `members` (dense Prim over the gathered submatrix). Writes
 * the points in the order they join (`order`, root first), and for each point its tree parent
 * (−1 for the root) and the weight of the edge to it. Returns the sum of the edge weights.
 */
function spanBlock(
  data: Float64Array,
  n: number,
  members: ArrayLike<number>,
  order: number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
): number {
  const size = members.length;
  order.length = 0;
  if (size === 0) return 0;
  for (let a = 0; a < size; a++) best[a] = -Infinity;
  let v = 0, sum = 0;
  best[0] = NaN;
  order.push(members[0]);
  parent[members[0]] = -1;
  parentWeight[members[0]] = 0;
  for (let step = 1; step < size; step++) {
    const row = members[v] * n;
    let next = -1, nextKey = -Infinity;
    for (let a = 0; a < size; a++) {
      const w = data[row + members[a]];
      let b = best[a];
      if (w > b) {
        best[a] = b = w;
        bestFrom[a] = v;
      }
      if (b > nextKey) {
        nextKey = b;
        next = a;
      }
    }
    if (next === -1) {
      next = 0;
      while (best[next] !== best[next]) next++;
      nextKey = best[next];
    }
    best[next] = NaN;
    const p = members[next];
    order.push(p);
    parent[p] = members[bestFrom[next]];
    parentWeight[p] = nextKey;
    sum += nextKey;
    v = next;
  }
  return sum;
}

/** Upper bound on the sweeps of the leaf-move local search of {@link cliqueGreedy}. */
const LEAF_MOVE_SWEEPS = 10;

/**
 * Definition 5 for constraints whose conflicting groups form a clique T (all label-derived M_Ω),
 * in O(n²) time without sorting the n² pairs:
 *
 * 1. The reference greedy (Kruskal with must-link pairs first, cannot-link merges rejected) in
 *    contracted form. Must-link pairs first span every must-link group; with T a clique, two
 *    components conflict iff both hold a group of T, so the rejection rule is exactly "no cycle"
 *    once all of T is identified into one node: Kruskal with rejection = Kruskal on the graph
 *    whose nodes are {∪T} and the free groups (node weight = largest Σ between members). Its
 *    component count is always the original count − (|T| − 1), so stopping at k components is
 *    taking the heaviest (#nodes − k + |T| − 1) edges of that graph's maximum spanning tree —
 *    found by one dense Prim over the points ({@link contractedPrim}), n² reads.
 * 2. Each resulting cluster is re-spanned by its own maximum spanning tree (never worse).
 * 3. Local search: move a free singleton point that is a leaf of its cluster's tree to another
 *    cluster when that strictly raises the value. Removing a leaf u from a maximum spanning tree
 *    leaves a maximum spanning tree of the rest (u's only edge is its heaviest one), so the loss
 *    is that edge's weight; the gain of inserting u into a tree Y is computed exactly in O(|Y|)
 *    by the vertex-insertion recurrence of Chin & Houck (1978): a post-order pass that, for each
 *    tree edge, keeps the heavier of it and the best edge from its subtree towards u. One sweep
 *    costs O(#free points · n); later sweeps re-examine only clusters that changed.
 */
function cliqueGreedy(
  sigma: Matrix,
  k: number,
  s: GroupStructure,
  terminal: Uint8Array,
): [number, number][] {
  const { n, data } = sigma, m = s.groups, group = s.group;
  // Members of each group (counting sort by group id).
  const groupStart = new Int32Array(m + 1), groupPoints = new Int32Array(n);
  for (let i = 0; i < n; i++) groupStart[group[i] + 1]++;
  for (let g = 0; g < m; g++) groupStart[g + 1] += groupStart[g];
  {
    const fill = groupStart.slice(0, m);
    for (let i = 0; i < n; i++) groupPoints[fill[group[i]]++] = i;
  }
  const parent = new Int32Array(n), parentWeight = new Float64Array(n);
  const best = new Float64Array(n), bestFrom = new Int32Array(n);
  const order: number[] = [];
  // Points of a forest as parent pointers: phase 1 (group trees) and phase 2 (contracted tree).
  const sets = new DisjointSets(n);
  let terminals = 0;
  for (let g = 0; g < m; g++) {
    terminals += terminal[g];
    const size = groupStart[g + 1] - groupStart[g];
    if (size < 2) continue;
    const members = groupPoints.subarray(groupStart[g], groupStart[g + 1]);
    spanBlock(data, n, members, order, parent, parentWeight, best, bestFrom);
    for (let t = 1; t < order.length; t++) sets.union(order[t], parent[order[t]]);
  }
  // Contracted nodes: node 0 = all terminal groups together (if any), then each free group.
  const nodes = m - terminals + (terminals > 0 ? 1 : 0);
  const nodeOf = new Int32Array(n), nodeStart = new Int32Array(nodes + 1);
  const nodePoints = new Int32Array(n);
  {
    const nodeOfGroup = new Int32Array(m);
    let next = terminals > 0 ? 1 : 0;
    for (let g = 0; g < m; g++) nodeOfGroup[g] = terminal[g] ? 0 : next++;
    for (let i = 0; i < n; i++) nodeOf[i] = nodeOfGroup[group[i]];
    for (let i = 0; i < n; i++) nodeStart[nodeOf[i] + 1]++;
    for (let c = 0; c < nodes; c++) nodeStart[c + 1] += nodeStart[c];
    const fill = nodeStart.slice(0, nodes);
    for (let i = 0; i < n; i++) nodePoints[fill[nodeOf[i]]++] = i;
  }
  const edgeFrom = new Int32Array(nodes), edgeTo = new Int32Array(nodes);
  const edgeWeight = new Float64Array(nodes);
  contractedPrim(data, n, nodeStart, nodePoints, nodeOf, edgeFrom, edgeTo, edgeWeight);
  const take = nodes - (terminals > 0 ? k - terminals + 1 : k);
  const byWeight = new Int32Array(nodes - 1);
  for (let t = 0; t < nodes - 1; t++) byWeight[t] = t;
  byWeight.sort((a, b) => edgeWeight[b] - edgeWeight[a] || a - b);
  for (let t = 0; t < take; t++) sets.union(edgeFrom[byWeight[t]], edgeTo[byWeight[t]]);

  let allFreeSingletons = true;
  for (let g = 0; g < m; g++) {
    if (!terminal[g] && groupStart[g + 1] - groupStart[g] > 1) allFreeSingletons = false;
  }
  // Clusters without terminal points exist iff k > |T| (each terminal group anchors its own).
  const mergeSplit = terminals > 0 && allFreeSingletons && k > terminals;
  const work: Work = { left: Math.max(MIN_MOVE_WORK, MOVE_WORK_PER_ENTRY * n * n) };
  let partition = sets;
  for (let round = 0;; round++) {
    if (mergeSplit) {
      partition = mergeSplitMoves(
        data,
        n,
        k,
        partition,
        group,
        terminal,
        parent,
        parentWeight,
        best,
        bestFrom,
        work,
      );
    }
    const { edges, moved } = pointMoves(
      data,
      n,
      m,
      partition,
      groupStart,
      groupPoints,
      terminal,
      work,
    );
    // Point moves can open new merge/split moves (and back): alternate while both make progress.
    if (!moved || !mergeSplit || round + 1 >= MOVE_ROUNDS || work.left <= 0) return edges;
    partition = new DisjointSets(n);
    for (const [a, b] of edges) partition.union(a, b);
  }
}

/** Upper bound on the alternations of merge/split moves and point moves in {@link cliqueGreedy}. */
const MOVE_ROUNDS = 4;

/**
 * Work budget of the improvement moves, in entries of Σ visited: MOVE_WORK_PER_ENTRY · n², at
 * least MIN_MOVE_WORK. It keeps the constrained solver O(n²) with a small constant however many
 * moves pay off (e.g. labels unrelated to the geometry); small problems are never cut short.
 * Deterministic: the same input always stops at the same point.
 */
interface Work {
  left: number;
}
const MOVE_WORK_PER_ENTRY = 0.1;
const MIN_MOVE_WORK = 2048;

/**
 * Spans each cluster of `partition` by its maximum spanning tree, then moves free singleton points
 * between clusters while that strictly raises the value (see {@link cliqueGreedy}). Returns the
 * final trees' edges and whether any point moved.
 */
function pointMoves(
  data: Float64Array,
  n: number,
  m: number,
  partition: DisjointSets,
  groupStart: Int32Array,
  groupPoints: Int32Array,
  terminal: Uint8Array,
  work: Work,
): { edges: [number, number][]; moved: boolean } {
  const parent = new Int32Array(n), parentWeight = new Float64Array(n);
  const best = new Float64Array(n), bestFrom = new Int32Array(n);
  let movedAny = false;
  // Clusters, each re-spanned by its maximum spanning tree.
  const blockOf = new Int32Array(n), rootBlock = new Int32Array(n).fill(-1);
  const blockMembers: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = partition.find(i);
    if (rootBlock[r] === -1) {
      rootBlock[r] = blockMembers.length;
      blockMembers.push([]);
    }
    blockOf[i] = rootBlock[r];
    blockMembers[rootBlock[r]].push(i);
  }
  const blocks = blockMembers.length; // = k
  const blockOrder: number[][] = [], treeSum = new Float64Array(blocks);
  const treeAbs = new Float64Array(blocks), degree = new Int32Array(n);
  for (let b = 0; b < blocks; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, blockMembers[b], ord, parent, parentWeight, best, bestFrom);
    for (let t = 1; t < ord.length; t++) {
      degree[ord[t]]++;
      degree[parent[ord[t]]]++;
      treeAbs[b] += Math.abs(parentWeight[ord[t]]);
    }
    blockOrder.push(ord);
  }

  // Local search: move free singleton points between clusters.
  const movable: number[] = [];
  for (let g = 0; g < m; g++) {
    if (!terminal[g] && groupStart[g + 1] - groupStart[g] === 1) {
      movable.push(groupPoints[groupStart[g]]);
    }
  }
  if (movable.length > 0 && blocks > 1) {
    const keep: number[] = []; // scratch: kept edges of an insertion, as (a, b) pairs
    const keepWeight: number[] = [];
    const rest: number[] = [], restOrder: number[] = [];
    const scratchParent = new Int32Array(n), scratchWeight = new Float64Array(n);
    const scratchBest = new Float64Array(n), scratchFrom = new Int32Array(n);
    let changedBefore = new Uint8Array(blocks).fill(1);
    for (let sweep = 0; sweep < LEAF_MOVE_SWEEPS; sweep++) {
      const changedNow = new Uint8Array(blocks);
      let moved = false;
      for (const u of movable) {
        if (work.left <= 0) break;
        const from = blockOf[u], ordFrom = blockOrder[from];
        if (ordFrom.length < 2) continue;
        // Removing u costs at least its lightest tree edge (every reconnecting edge is at most
        // as heavy as a u-edge on its tree path, by the cycle property), and exactly its edge
        // when u is a leaf (then the rest of its tree is a maximum spanning tree of the rest).
        let lightest = parent[u] !== -1 ? parentWeight[u] : Infinity;
        if (degree[u] > 1 || parent[u] === -1) {
          work.left -= ordFrom.length;
          for (let t = 1; t < ordFrom.length; t++) {
            const y = ordFrom[t];
            if (parent[y] === u && parentWeight[y] < lightest) lightest = parentWeight[y];
          }
        }
        const all = sweep === 0 || changedBefore[from] === 1 || changedNow[from] === 1;
        let bestInsert = -Infinity, bestTo = -1;
        for (let to = 0; to < blocks; to++) {
          if (to === from || (!all && !changedBefore[to] && !changedNow[to])) continue;
          work.left -= blockOrder[to].length;
          const sum = insertionTree(
            data,
            n,
            u,
            blockOrder[to],
            parent,
            parentWeight,
            best,
            bestFrom,
            null,
            null,
          );
          if (sum - treeSum[to] > bestInsert) {
            bestInsert = sum - treeSum[to];
            bestTo = to;
          }
        }
        if (bestTo === -1) continue;
        const eps = 1e-12 * (n + 1) * (treeAbs[bestTo] + treeAbs[from] + Math.abs(bestInsert));
        if (!(bestInsert - lightest > eps)) continue;
        if (degree[u] === 1) {
          // Remove the leaf u from its tree.
          if (parent[u] === -1) {
            const child = ordFrom[1];
            parent[child] = -1;
            degree[child]--;
          } else degree[parent[u]]--;
          ordFrom.splice(ordFrom.indexOf(u), 1);
          treeSum[from] -= lightest;
          treeAbs[from] -= Math.abs(lightest);
        } else {
          // Internal point: the rest needs its own maximum spanning tree; keep the move only if
          // the exact gain is positive.
          rest.length = 0;
          for (const p of ordFrom) if (p !== u) rest.push(p);
          work.left -= rest.length * rest.length;
          const restSum = spanBlock(
            data,
            n,
            rest,
            restOrder,
            scratchParent,
            scratchWeight,
            scratchBest,
            scratchFrom,
          );
          if (!(restSum - treeSum[from] + bestInsert > eps)) continue;
          treeSum[from] = restSum;
          treeAbs[from] = 0;
          for (const p of ordFrom) degree[p] = 0;
          ordFrom.length = 0;
          for (const p of restOrder) {
            ordFrom.push(p);
            parent[p] = scratchParent[p];
            parentWeight[p] = scratchWeight[p];
            if (parent[p] !== -1) {
              degree[p]++;
              degree[parent[p]]++;
              treeAbs[from] += Math.abs(parentWeight[p]);
            }
          }
        }
        // Insert u into the target tree and re-root it.
        const ordTo = blockOrder[bestTo];
        keep.length = 0;
        keepWeight.length = 0;
        const sum = insertionTree(
          data,
          n,
          u,
          ordTo,
          parent,
          parentWeight,
          best,
          bestFrom,
          keep,
          keepWeight,
        );
        treeSum[bestTo] = sum;
        treeAbs[bestTo] = 0;
        for (const w of keepWeight) treeAbs[bestTo] += Math.abs(w);
        ordTo.push(u);
        rootTree(ordTo, keep, keepWeight, parent, parentWeight, degree);
        blockOf[u] = bestTo;
        changedNow[from] = changedNow[bestTo] = 1;
        moved = true;
      }
      if (!moved) break;
      movedAny = true;
      if (work.left <= 0) break;
      changedBefore = changedNow;
    }
  }
  const edges: [number, number][] = [];
  for (let b = 0; b < blocks; b++) {
    const ord = blockOrder[b];
    for (let t = 1; t < ord.length; t++) {
      const a = ord[t], p = parent[a];
      edges.push(a < p ? [a, p] : [p, a]);
    }
  }
  return { edges, moved: movedAny };
}

/** Upper bound on the merge/split moves of {@link mergeSplitMoves}, per cluster. */
const MERGE_SPLIT_MOVES_PER_CLUSTER = 4;
/** Candidate merges tried per move when the best-looking one does not pay off. */
const MERGE_SPLIT_TRIES = 3;

/** A partition's clusters spanned by their maximum spanning trees, with removable edges. */
interface SpannedPartition {
  readonly blockOf: Int32Array;
  readonly members: number[][];
  readonly orders: number[][];
  readonly treeSum: Float64Array;
  readonly anchored: Uint8Array;
  /** Per cluster: the lightest tree edge that splits no terminal group (−1: none). */
  readonly cutPoint: Int32Array;
  readonly cutWeight: Float64Array;
  readonly value: number;
}

function spanPartition(
  data: Float64Array,
  n: number,
  sets: DisjointSets,
  group: Int32Array,
  terminal: Uint8Array,
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
  inside: Int32Array,
): SpannedPartition {
  const blockOf = new Int32Array(n), rootBlock = new Int32Array(n).fill(-1);
  const members: number[][] = [];
  for (let i = 0; i < n; i++) {
    const r = sets.find(i);
    if (rootBlock[r] === -1) {
      rootBlock[r] = members.length;
      members.push([]);
    }
    blockOf[i] = rootBlock[r];
    members[rootBlock[r]].push(i);
  }
  const k = members.length, orders: number[][] = [], treeSum = new Float64Array(k);
  const anchored = new Uint8Array(k), cutPoint = new Int32Array(k).fill(-1);
  const cutWeight = new Float64Array(k).fill(Infinity);
  let value = 0;
  for (let b = 0; b < k; b++) {
    const ord: number[] = [];
    treeSum[b] = spanBlock(data, n, members[b], ord, parent, parentWeight, best, bestFrom);
    value += treeSum[b];
    orders.push(ord);
    // Terminal points below each tree edge: the edge is removable iff none or all are below.
    for (const p of ord) inside[p] = terminal[group[p]];
    for (let t = ord.length - 1; t > 0; t--) inside[parent[ord[t]]] += inside[ord[t]];
    const total = inside[ord[0]];
    anchored[b] = total > 0 ? 1 : 0;
    for (let t = 1; t < ord.length; t++) {
      const y = ord[t];
      if ((inside[y] === 0 || inside[y] === total) && parentWeight[y] < cutWeight[b]) {
        cutWeight[b] = parentWeight[y];
        cutPoint[b] = y;
      }
    }
  }
  return { blockOf, members, orders, treeSum, anchored, cutPoint, cutWeight, value };
}

/**
 * Merge/split moves on a feasible partition (label-derived shape: the only multi-point groups are
 * the pairwise cannot-linked terminal groups, at most one per cluster): join a cluster without
 * terminal points to another cluster, re-span, and cut the lightest tree edge that splits no
 * terminal group — kept when the value strictly rises. The number of clusters and feasibility are
 * preserved. This recovers what "run Kruskal past k, then prune back" finds when clusters of
 * unlabelled points exist, including unlabelled points that bridge the parts of a class.
 * Candidates are ranked by an estimate (a singleton's exact insertion gain by
 * {@link insertionTree}, or a cluster's heaviest connecting edge, minus the lightest removable
 * edge elsewhere) and each tried move is checked exactly. Nothing runs when every cluster holds
 * terminal points (e.g. k = number of classes).
 */
function mergeSplitMoves(
  data: Float64Array,
  n: number,
  k: number,
  start: DisjointSets,
  group: Int32Array,
  terminal: Uint8Array,
  parent: Int32Array,
  parentWeight: Float64Array,
  best: Float64Array,
  bestFrom: Int32Array,
  work: Work,
): DisjointSets {
  let sets = start;
  const inside = new Int32Array(n), mv = new Float64Array(n), mTo = new Int32Array(n);
  const span = (s: DisjointSets) => {
    const spanned = spanPartition(
      data,
      n,
      s,
      group,
      terminal,
      parent,
      parentWeight,
      best,
      bestFrom,
      inside,
    );
    for (const ms of spanned.members) work.left -= ms.length * ms.length;
    return spanned;
  };
  let current = span(sets);
  for (let move = 0; move < MERGE_SPLIT_MOVES_PER_CLUSTER * k; move++) {
    if (current.anchored.every((a) => a === 1) || work.left <= 0) return sets;
    const { blockOf, members, orders, treeSum, anchored, cutWeight } = current;
    // Lightest and second-lightest removable edges, to exclude one cluster cheaply.
    let cut1 = -1, cut2 = -1;
    for (let b = 0; b < k; b++) {
      if (cut1 === -1 || cutWeight[b] < cutWeight[cut1]) {
        cut2 = cut1;
        cut1 = b;
      } else if (cut2 === -1 || cutWeight[b] < cutWeight[cut2]) cut2 = b;
    }
    const cutWithout = (b: number) => (b === cut1 ? cutWeight[cut2] : cutWeight[cut1]);
    const candidates: { gain: number; a: number; b: number }[] = [];
    for (let a = 0; a < k; a++) {
      if (anchored[a]) continue;
      if (members[a].length === 1) {
        const u = members[a][0];
        for (let b = 0; b < k; b++) {
          if (b === a) continue;
          work.left -= orders[b].length;
          const sum = insertionTree(
            data,
            n,
            u,
            orders[b],
            parent,
            parentWeight,
            mv,
            mTo,
            null,
            null,
          );
          candidates.push({ gain: sum - treeSum[b] - cutWithout(a), a, b });
        }
        continue;
      }
      const link = new Float64Array(k).fill(-Infinity);
      for (const i of members[a]) {
        const row = i * n;
        work.left -= n;
        for (let j = 0; j < n; j++) {
          const w = data[row + j], b = blockOf[j];
          if (w > link[b]) link[b] = w;
        }
      }
      for (let b = 0; b < k; b++) {
        if (b !== a) candidates.push({ gain: link[b] - cutWithout(a), a, b });
      }
    }
    candidates.sort((p, q) => q.gain - p.gain || p.a - q.a || p.b - q.b);
    let improved = false;
    for (let t = 0; t < Math.min(MERGE_SPLIT_TRIES, candidates.length); t++) {
      if (!(candidates[t].gain > 0)) break;
      const { a, b } = candidates[t];
      // Merge a into b, re-span, then cut the lightest removable edge.
      const merged = new DisjointSets(n);
      for (let i = 0; i < n; i++) {
        const c = blockOf[i] === a ? b : blockOf[i];
        merged.union(i, members[c][0]);
      }
      const joined = span(merged);
      let cutBlock = -1;
      for (let c = 0; c < joined.members.length; c++) {
        if (
          joined.cutPoint[c] !== -1 &&
          (cutBlock === -1 || joined.cutWeight[c] < joined.cutWeight[cutBlock])
        ) cutBlock = c;
      }
      if (cutBlock === -1) continue;
      const value = joined.value - joined.cutWeight[cutBlock];
      const eps = 1e-12 * (n + 1) * (Math.abs(value) + Math.abs(current.value));
      if (!(value > current.value + eps)) continue;
      const next = new DisjointSets(n), y = joined.cutPoint[cutBlock];
      for (const ord of joined.orders) {
        for (let s = 1; s < ord.length; s++) {
          if (ord[s] !== y) next.union(ord[s], parent[ord[s]]);
        }
      }
      // `parent` now holds the joined partition's trees: rebuild from the cut forest.
      sets = next;
      current = span(sets);
      improved = true;
      break;
    }
    if (!improved) return sets;
  }
  return sets;
}

/**
 * Weight of the maximum spanning tree of a tree (points `ord` in an order where every parent
 * precedes its children, root first) plus a new point u joined to all of them, in O(|ord|)
 * (Chin & Houck's vertex insertion). `mv`/`mFrom`/`mTo` hold, per point, the best edge leaving
 * its processed subtree towards u. When `keep` is given, the kept edges are appended to it.
 */
function insertionTree(
  data: Float64Array,
  n: number,
  u: number,
  ord: readonly number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  mv: Float64Array,
  mTo: Int32Array,
  keep: number[] | null,
  keepWeight: number[] | null,
): number {
  const row = u * n, size = ord.length;
  // Candidate edge of point y: (u, mTo[y]) when mTo[y] >= 0, else the tree edge (−mTo[y]−1, parent).
  for (let t = 0; t < size; t++) {
    const y = ord[t];
    mv[y] = data[row + y];
    mTo[y] = y;
  }
  let sum = 0;
  for (let t = size - 1; t > 0; t--) {
    const y = ord[t], p = parent[y], tw = parentWeight[y], cand = mv[y];
    if (cand > tw) {
      sum += cand;
      if (keep) pushEdge(keep, keepWeight!, u, mTo[y], parent, cand);
      if (tw > mv[p]) {
        mv[p] = tw;
        mTo[p] = -y - 1;
      }
    } else {
      sum += tw;
      if (keep) {
        keep.push(y, p);
        keepWeight!.push(tw);
      }
      if (cand > mv[p]) {
        mv[p] = cand;
        mTo[p] = mTo[y];
      }
    }
  }
  const root = ord[0];
  sum += mv[root];
  if (keep) pushEdge(keep, keepWeight!, u, mTo[root], parent, mv[root]);
  return sum;
}

/** Appends the candidate edge encoded in `code` (see {@link insertionTree}). */
function pushEdge(
  keep: number[],
  keepWeight: number[],
  u: number,
  code: number,
  parent: Int32Array,
  w: number,
): void {
  if (code >= 0) keep.push(u, code);
  else keep.push(-code - 1, parent[-code - 1]);
  keepWeight.push(w);
}

/**
 * Re-roots a tree given by its edge list at `ord[0]`: rewrites `ord` in breadth-first order and
 * the parent pointers, edge weights and degrees of its points.
 */
function rootTree(
  ord: number[],
  edges: readonly number[],
  weights: readonly number[],
  parent: Int32Array,
  parentWeight: Float64Array,
  degree: Int32Array,
): void {
  const adjacency = new Map<number, number[]>();
  for (const p of ord) {
    adjacency.set(p, []);
    degree[p] = 0;
  }
  for (let e = 0; e < weights.length; e++) {
    const a = edges[2 * e], b = edges[2 * e + 1];
    adjacency.get(a)!.push(b, e);
    adjacency.get(b)!.push(a, e);
    degree[a]++;
    degree[b]++;
  }
  const root = ord[0];
  parent[root] = -1;
  parentWeight[root] = 0;
  ord.length = 0;
  ord.push(root);
  for (let q = 0; q < ord.length; q++) {
    const a = ord[q], list = adjacency.get(a)!;
    for (let t = 0; t < list.length; t += 2) {
      const b = list[t];
      if (b === parent[a]) continue;
      parent[b] = a;
      parentWeight[b] = weights[list[t + 1]];
      ord.push(b);
    }
  }
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
 * import { matrix } from "./matrix.ts";
 * import { constraintsFromMatrix, exactConstrainedSpanningForest } from "./constraints.ts";
 * import assert from "node:assert/strict";
 * const x = [[-1, -1], [1, -1], [4, 0], [-6, 0]];
 * const sigma = matrix(x.map((p) => x.map((q) => -((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2))));
 * const c = constraintsFromMatrix([
 *   [1, null, null, null], [null, 1, null, null], [null, null, 1, 1], [null, null, 1, 1]]);
 * assert.equal(exactConstrainedSpanningForest(sigma, 1, c).value, -80); // total distance 40
 * ```
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
