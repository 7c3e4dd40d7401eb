import assert from "node:assert/strict";
import fixture from "./testdata/linkage_scipy.json" with { type: "json" };
import { chooseK, cutAtThreshold, kAtThreshold, linkageMatrix } from "./hierarchy.ts";
import { negSquaredDistances } from "./similarity.ts";
import { forestAt, forestHierarchy } from "./spanning_forest.ts";

/** Canonical form of a partition: each label replaced by the first index holding it. */
const canonical = (labels: ArrayLike<number>) => {
  const first = new Map<number, number>();
  return Array.from(labels, (l, i) => {
    if (!first.has(l)) first.set(l, i);
    return first.get(l)!;
  });
};

const h = forestHierarchy(negSquaredDistances(fixture.points));

Deno.test("linkageMatrix equals scipy's linkage(pdist(X), 'single') (fixture from scipy)", () => {
  // Oracle: scripts/linkage_fixture.py (scipy 1.17.1) on 24 fixed points.
  const z = linkageMatrix(h, { distance: "sqrt-negate" });
  assert.equal(z.length, fixture.Z.length);
  z.forEach((row, t) => {
    const ref = fixture.Z[t]!;
    assert.deepEqual([row[0], row[1], row[3]], [ref[0], ref[1], ref[3]], `row ${t}`);
    assert.ok(Math.abs(row[2] - ref[2]!) <= 1e-9 * Math.max(1, ref[2]!), `distance of row ${t}`);
  });
});

Deno.test("cutAtThreshold(h, −t²) equals scipy's fcluster(Z, t, 'distance')", () => {
  for (const [t, labels] of Object.entries(fixture.fclusterDistance)) {
    const ours = cutAtThreshold(h, -(Number(t) ** 2)).labels;
    assert.deepEqual(canonical(ours), canonical(labels), `t = ${t}`);
    assert.equal(kAtThreshold(h, -(Number(t) ** 2)), new Set(labels).size);
  }
  for (const [k, labels] of Object.entries(fixture.fclusterMaxclust)) {
    assert.deepEqual(canonical(forestAt(h, Number(k)).labels), canonical(labels), `k = ${k}`);
  }
  // Above every similarity nothing merges; below every one, everything does.
  assert.equal(kAtThreshold(h, 1), h.n);
  assert.equal(kAtThreshold(h, -1e9), 1);
});

Deno.test("chooseK picks the largest gap between merge similarities (brute-force oracle)", () => {
  // Oracle: Kruskal over all pairs sorted by Σ (independent of Prim), merge similarities in
  // order, and the gap of k = similarity of merge n−k−1 minus that of merge n−k.
  const pts = fixture.points, n = pts.length;
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      pairs.push([-((pts[i]![0]! - pts[j]![0]!) ** 2 + (pts[i]![1]! - pts[j]![1]!) ** 2), i, j]);
    }
  }
  pairs.sort((a, b) => b[0] - a[0]);
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  const merges: number[] = [];
  for (const [w, i, j] of pairs) {
    const a = find(i), b = find(j);
    if (a !== b) {
      parent[a] = b;
      merges.push(w);
    }
  }
  let bestK = -1, bestGap = -Infinity;
  for (let k = 2; k <= n - 1; k++) {
    const gap = merges[n - k - 1]! - merges[n - k]!;
    if (gap > bestGap) [bestK, bestGap] = [k, gap];
  }
  const choice = chooseK(h);
  assert.equal(choice.k, bestK);
  assert.ok(Math.abs(choice.gap - bestGap) < 1e-12);
  assert.equal(choice.gaps.length, n - 2);
  // Restricting the range restricts the answer.
  const r = chooseK(h, { minK: 4, maxK: 6 });
  assert.ok(r.k >= 4 && r.k <= 6);
  // Three groups on a line, far apart: k = 3.
  const line = [[0], [0.4], [1], [30], [30.5], [60], [61], [61.2]];
  assert.equal(chooseK(forestHierarchy(negSquaredDistances(line))).k, 3);
});

Deno.test("hierarchy helpers: errors name the argument and the value", () => {
  assert.throws(() => kAtThreshold(h, NaN), /Invalid threshold = NaN/);
  assert.throws(() => cutAtThreshold({ n: 3 } as never, 0), /Expected h to be a Hierarchy/);
  assert.throws(() => chooseK(h, { minK: 1 }), /minK/);
  assert.throws(() => chooseK(h, { minK: 5, maxK: 4 }), /maxK/);
  const two = forestHierarchy(negSquaredDistances([[0], [1]]));
  assert.throws(() => chooseK(two), /n ≥ 3/);
  // A distance that decreases along the merges cannot be a linkage matrix.
  assert.throws(() => linkageMatrix(h, { distance: (w) => w }), /non-decreasing/);
  // The default −Σ is a valid (non-decreasing) distance.
  const z = linkageMatrix(h);
  for (let t = 1; t < z.length; t++) assert.ok(z[t]![2] >= z[t - 1]![2]);
  assert.equal(z.at(-1)![3], h.n);
});
