/**
 * Internal (not re-exported by `mod.ts`): the reduction with which every dense solver of
 * Definition 5 starts. Must-link pairs of M_Ω (Definition 4) are transitive, so they close into
 * groups that any feasible clustering keeps whole; the cannot-link pairs become a relation
 * between groups. Definition 5 then asks for the best partition of the groups into k clusters
 * with no cannot-linked groups together, and its feasibility checks on k are here too. Both are
 * cached per constraint matrix.
 *
 * Used by the dense solvers of `constrained_forest.ts` and by the label-derived solver of
 * `_label_forest.ts`; M_Ω itself is defined in `constraint_types.ts`, and the graph solver of
 * `constrained_forest_on_graph.ts` works from partial labels instead.
 *
 * @module
 */
import { CANNOT_LINK, type Constraints, MUST_LINK } from "./constraint_types.ts";
import { assertIntegerInRange, InfeasibleConstraintsError } from "../core/errors.ts";

/** Must-link closure: group id per point and the cannot-link relation between groups. */
export interface GroupStructure {
  /** Group id of each point, 0..groups−1 numbered by first appearance. */
  readonly group: Int32Array;
  /** Number of must-link groups. */
  readonly groups: number;
  /** conflict[g · groups + h] = 1 iff some cannot-link pair joins groups g and h. */
  readonly conflict: Uint8Array;
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

/**
 * The group structure of `c`, from the cache when its entries are unchanged.
 *
 * @param c Valid constraints (not checked).
 * @returns The must-link groups and their conflicts.
 * @throws {InfeasibleConstraintsError} If a cannot-link pair lies inside a must-link group.
 */
export function groupStructure(c: Constraints): GroupStructure {
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

/**
 * Throws unless k is within the bounds that the constraints allow.
 *
 * @param s The group structure.
 * @param k Number of clusters.
 * @param n Number of points.
 * @throws {RangeError} If k is not an integer in [1, n].
 * @throws {InfeasibleConstraintsError} If there are fewer than k groups, or more than k
 * mutually cannot-linked ones.
 */
export function assertFeasibleK(s: GroupStructure, k: number, n: number): void {
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
