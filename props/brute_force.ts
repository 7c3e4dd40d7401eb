/**
 * Brute-force oracles for the property tests: every k-spanning forest of the complete graph
 * on n ≤ 7 points, enumerated as (n − k)-subsets of the n(n − 1)/2 edges that are acyclic.
 *
 * @module
 */
import type { Matrix } from "../lib/matrix.ts";
import { DisjointSets, labelsFromSets } from "../lib/spanning_forest.ts";

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
      const sets = new DisjointSets(n);
      for (const [a, b] of chosen) if (sets.union(a, b) === -1) return;
      visit({ edges: chosen.slice(), labels: labelsFromSets(sets, n) });
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
