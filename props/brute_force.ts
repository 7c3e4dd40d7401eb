/**
 * Brute-force oracles for the property tests, written without library code (no DisjointSets, no
 * `satisfies`, no library spanning tree) so that a bug there cannot hide in the oracle: every
 * k-spanning forest of the complete graph on n ≤ 7 points, enumerated as (n − k)-subsets of the
 * n(n − 1)/2 edges that are acyclic; every partition into k blocks under M_Ω; the reference
 * greedy of the paper's code.
 *
 * @module
 */
import type { Matrix } from "../lib/core/matrix.ts";
import type { Constraints } from "../lib/constrained/constrained_forest.ts";
import type { Neighbours } from "../lib/graph/exact_neighbours.ts";

/** One enumerated forest: its edges, labels and ⟨A, Σ⟩-ready edge list. */
export interface EnumeratedForest {
  /** Edges [i, j], i < j. */
  readonly edges: ReadonlyArray<readonly [number, number]>;
  /** Cluster id per point, numbered by first appearance. */
  readonly labels: Int32Array;
}

/**
 * Calls `visit` for every spanning forest with exactly k trees on n points.
 *
 * @param n Number of points (≤ 7 keeps this fast: at most C(21, 6) = 54 264 subsets).
 * @param k Number of trees.
 * @param visit Receives each forest.
 */
export function forEachForest(n: number, k: number, visit: (f: EnumeratedForest) => void): void {
  const all: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all.push([i, j]);
  const chosen: [number, number][] = [];
  const need = n - k;
  const rec = (start: number) => {
    if (chosen.length === need) {
      // Component id per point, merged by relabelling; an edge inside a component is a cycle.
      const comp = Array.from({ length: n }, (_, i) => i);
      for (const [a, b] of chosen) {
        const ca = comp[a], cb = comp[b];
        if (ca === cb) return;
        for (let p = 0; p < n; p++) if (comp[p] === cb) comp[p] = ca;
      }
      const ids = new Map<number, number>(), labels = new Int32Array(n);
      for (let p = 0; p < n; p++) {
        if (!ids.has(comp[p])) ids.set(comp[p], ids.size);
        labels[p] = ids.get(comp[p])!;
      }
      visit({ edges: chosen.slice(), labels });
      return;
    }
    for (let t = start; t <= all.length - (need - chosen.length); t++) {
      chosen.push(all[t]);
      rec(t + 1);
      chosen.pop();
    }
  };
  rec(0);
}

/** ⟨A, Σ⟩ of an edge list: twice the sum of its edge weights. */
export function forestValue(
  sigma: Matrix,
  edges: ReadonlyArray<readonly [number, number]>,
): number {
  let v = 0;
  for (const [i, j] of edges) v += 2 * sigma.data[i * sigma.n + j];
  return v;
}

/**
 * Best value over all k-forests accepted by `keep` (−Infinity when none is accepted).
 *
 * @param sigma Similarity matrix.
 * @param k Number of trees.
 * @param keep Filter on forests (e.g. "satisfies M_Ω").
 * @returns The maximum of ⟨A, Σ⟩.
 */
export function bruteForceBest(
  sigma: Matrix,
  k: number,
  keep: (f: EnumeratedForest) => boolean = () => true,
): number {
  let best = -Infinity;
  forEachForest(sigma.n, k, (f) => {
    if (keep(f)) best = Math.max(best, forestValue(sigma, f.edges));
  });
  return best;
}

/**
 * Whether `labels` keeps every must-link pair of M_Ω together and every cannot-link pair apart.
 *
 * @param c The constraints.
 * @param labels Cluster id per point.
 * @returns True iff every known pair is respected.
 */
export function respects(c: Constraints, labels: ArrayLike<number>): boolean {
  const n = c.n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const e = c.data[i * n + j];
      if (e === 1 && labels[i] !== labels[j]) return false;
      if (e === 0 && i !== j && labels[i] === labels[j]) return false;
    }
  }
  return true;
}

/** Total weight of a maximum spanning tree of `members` (Prim, O(m²)). */
export function mstWeight(sigma: Matrix, members: readonly number[]): number {
  const n = sigma.n, m = members.length;
  if (m < 2) return 0;
  const inTree = new Array(m).fill(false), key = new Array(m).fill(-Infinity);
  inTree[0] = true;
  for (let u = 1; u < m; u++) key[u] = sigma.data[members[0] * n + members[u]];
  let total = 0;
  for (let step = 1; step < m; step++) {
    let next = -1;
    for (let u = 0; u < m; u++) if (!inTree[u] && (next === -1 || key[u] > key[next])) next = u;
    inTree[next] = true;
    total += key[next];
    for (let u = 0; u < m; u++) {
      if (!inTree[u]) key[u] = Math.max(key[u], sigma.data[members[next] * n + members[u]]);
    }
  }
  return total;
}

/** Must-link (1) / cannot-link (0) / unknown (−1) entry. */
export const constraintEntry = (c: Constraints, i: number, j: number): number =>
  c.data[i * c.n + j];

/** Best ⟨A, Σ⟩ over feasible k-block partitions; −∞ if none. Prunes on each assignment. */
export function bruteForcePartitions(sigma: Matrix, k: number, c: Constraints): number {
  const n = sigma.n, block = new Array(n).fill(-1);
  let best = -Infinity;
  const visit = (i: number, used: number) => {
    if (used + (n - i) < k) return;
    if (i === n) {
      if (used !== k) return;
      let v = 0;
      for (let b = 0; b < k; b++) {
        v += 2 * mstWeight(sigma, block.map((x, p) => (x === b ? p : -1)).filter((p) => p >= 0));
      }
      best = Math.max(best, v);
      return;
    }
    for (let b = 0; b <= used && b < k; b++) {
      let ok = true;
      for (let p = 0; p < i && ok; p++) {
        const e = constraintEntry(c, p, i);
        if ((e === 1 && block[p] !== b) || (e === 0 && block[p] === b)) ok = false;
      }
      if (!ok) continue;
      block[i] = b;
      visit(i + 1, b === used ? used + 1 : used);
    }
    block[i] = -1;
  };
  visit(0, 0);
  return best;
}

/**
 * The reference greedy: ⟨A, Σ⟩ of its forest, or −∞ when it gets stuck above k components or
 * ends with a must-link pair apart.
 */
export function referenceGreedy(sigma: Matrix, k: number, c: Constraints): number {
  const n = sigma.n, pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  const must = (p: [number, number]) => (constraintEntry(c, p[0], p[1]) === 1 ? 1 : 0);
  pairs.sort((p, q) =>
    must(q) - must(p) || sigma.data[q[0] * n + q[1]] - sigma.data[p[0] * n + p[1]]
  );
  const comp = Array.from({ length: n }, (_, i) => i); // component id per point, relabelled
  let count = n, value = 0;
  for (const [i, j] of pairs) {
    if (count === k) break;
    const a = comp[i], b = comp[j];
    if (a === b) continue;
    let clash = false;
    for (let p = 0; p < n; p++) {
      for (let q = 0; q < n; q++) {
        if (comp[p] === a && comp[q] === b && constraintEntry(c, p, q) === 0) clash = true;
      }
    }
    if (clash) continue;
    for (let p = 0; p < n; p++) if (comp[p] === b) comp[p] = a;
    count--;
    value += 2 * sigma.data[i * n + j];
  }
  if (count !== k) return -Infinity;
  // Success means a forest that satisfies M_Ω: the greedy never checks must-link pairs it could
  // not join (contradictory constraints), so check them here.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (constraintEntry(c, i, j) === 1 && comp[i] !== comp[j]) return -Infinity;
    }
  }
  return value;
}

/**
 * Whether two labellings describe the same partition (equal up to renaming the labels).
 *
 * @param a One labelling.
 * @param b Another, of the same length.
 * @returns True when i and j share a label in a exactly when they do in b.
 */
export function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>(), ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

/**
 * The k nearest neighbours by sorting: every query's n distances ‖q − x_j‖², summed coordinate
 * by coordinate (the arithmetic of any direct evaluation), sorted by (distance, index), cut at k.
 *
 * @param ref The reference points, n × d row-major.
 * @param n Number of reference points.
 * @param queries The queries, nq × d row-major.
 * @param nq Number of queries.
 * @param d Dimension.
 * @param k Neighbours per query.
 * @param self Whether the queries are the reference points themselves: query i skips point i.
 * @returns nq × k lists.
 */
export function bruteForceNeighbours(
  ref: Float64Array,
  n: number,
  queries: Float64Array,
  nq: number,
  d: number,
  k: number,
  self = false,
): Neighbours {
  const index = new Int32Array(nq * k), distance2 = new Float64Array(nq * k);
  for (let i = 0; i < nq; i++) {
    const all: [number, number][] = [];
    for (let j = 0; j < n; j++) {
      if (self && j === i) continue;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = queries[i * d + t] - ref[j * d + t];
        s += v * v;
      }
      all.push([s, j]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let t = 0; t < k; t++) {
      distance2[i * k + t] = all[t][0];
      index[i * k + t] = all[t][1];
    }
  }
  return { n: nq, k, index, distance2 };
}
