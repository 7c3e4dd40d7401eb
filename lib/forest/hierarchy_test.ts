import assert from "node:assert/strict";
import fixture from "./testdata/linkage_scipy.json" with { type: "json" };
import {
  chooseK,
  cutAtMinSize,
  cutAtThreshold,
  kAtThreshold,
  linkageMatrix,
  maxClustersAtMinSize,
} from "./hierarchy.ts";
import { negSquaredDistances } from "../core/similarity.ts";
import { forestAt, forestHierarchy, type Hierarchy, labelsAt } from "./spanning_forest.ts";
import { graph } from "../graph/graph.ts";
import { forestHierarchyOnGraph } from "./spanning_forest_on_graph.ts";

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
  // Oracle: python/linkage_fixture.py (scipy 1.17.1) on 24 fixed points.
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

/** A 5 × 5 grid of spacing 1 with its lower-left corner at (x, y). */
const grid = (x: number, y: number) =>
  Array.from({ length: 25 }, (_, i) => [x + (i % 5), y + Math.floor(i / 5)]);

Deno.test("cutAtMinSize: two blobs and a far outlier at k = 2 give the two blobs", () => {
  // Blob A = points 0–24 at (0..4, 0..4), blob B = 25–49 at (10..14, 0..4), 6 apart; the
  // outlier, point 50 at (16, 30), is 26.08 from B's (14, 4) and 26.68 from A's (4, 4).
  const pts = [...grid(0, 0), ...grid(10, 0), [16, 30]];
  const h = forestHierarchy(negSquaredDistances(pts));
  // Plain single linkage cuts the weakest edge: the outlier alone.
  assert.deepEqual([...labelsAt(h, 2)], [...Array(50).fill(0), 1]);
  const cut = cutAtMinSize(h, 2, 2);
  // The outlier's edge (to B's (14, 4), its nearest point: a leaf's tree edge is its
  // nearest-neighbour edge) is the weakest merge; its small side {50} is no split, so the
  // outlier stays with the side it was split from, B — and the A–B edge is the genuine split.
  assert.deepEqual([...cut.labels], [...Array(25).fill(0), ...Array(26).fill(1)]);
  assert.deepEqual([...cut.sizes], [25, 26]);
  // The split undone is merge 48 of 0..49, the second weakest: the A–B edge, 6 long.
  assert.deepEqual([...cut.splits], [48]);
  assert.equal(h.weights[cut.splits[0]!], -36);
  // The same outlier moved next to A's side joins A.
  const other = forestHierarchy(negSquaredDistances([...grid(0, 0), ...grid(10, 0), [-2, 30]]));
  assert.deepEqual(
    [...cutAtMinSize(other, 2, 2).labels],
    [...Array(25).fill(0), ...Array(25).fill(1), 0],
  );
  // Any minSize from 2 to 25 gives the same cut; 26 finds only one cluster.
  for (const minSize of [2, 10, 25]) assert.deepEqual(cutAtMinSize(h, 2, minSize), cut);
  assert.equal(maxClustersAtMinSize(h, 25), 2);
  assert.equal(maxClustersAtMinSize(h, 26), 1);
});

Deno.test("cutAtMinSize with minSize 1 is labelsAt at every k (scipy fixture)", () => {
  for (let k = 1; k <= h.n; k++) {
    const cut = cutAtMinSize(h, k, 1);
    assert.deepEqual(cut.labels, labelsAt(h, k), `k = ${k}`);
    // Every merge is genuine: the k − 1 weakest are undone.
    assert.deepEqual([...cut.splits], Array.from({ length: k - 1 }, (_, s) => h.n - 2 - s));
  }
  assert.equal(maxClustersAtMinSize(h, 1), h.n);
});

Deno.test("cutAtMinSize on a disconnected graph hierarchy: components are clusters, k ≥ c", () => {
  // Two components: a path 0–1–2–3 (weights −1, −9, −1) and a path 4–5–6 (weights −1, −1).
  const g = graph(7, [[0, 1, -1], [1, 2, -9], [2, 3, -1], [4, 5, -1], [5, 6, -1]]);
  const gh = forestHierarchyOnGraph(g);
  assert.equal(gh.components, 2);
  assert.deepEqual([...cutAtMinSize(gh, 2, 3).labels], [0, 0, 0, 0, 1, 1, 1]);
  // The 1–2 edge splits {0, 1} from {2, 3}: genuine at minSize 2, the only one.
  assert.equal(maxClustersAtMinSize(gh, 2), 3);
  const three = cutAtMinSize(gh, 3, 2);
  assert.deepEqual([...three.labels], [0, 0, 1, 1, 2, 2, 2]);
  assert.deepEqual([...three.sizes], [2, 2, 3]);
  assert.equal(gh.weights[three.splits[0]!], -9);
  assert.throws(
    () => cutAtMinSize(gh, 4, 2),
    /^RangeError: Invalid k = 4: with minSize = 2 the hierarchy has only 3 clusters of at least 2 points/,
  );
  assert.throws(
    () => cutAtMinSize(gh, 1, 1),
    /^RangeError: Invalid k = 1: .*\[2, 7\] for n = 7 \(the graph has 2 connected components\)$/,
  );
  // A component of 3 points cannot hold a cluster of 4.
  assert.throws(
    () => cutAtMinSize(gh, 2, 4),
    /^RangeError: Invalid minSize = 4: the hierarchy's graph has a connected component of only 3 points \(the one holding point 4\)/,
  );
  assert.throws(() => maxClustersAtMinSize(gh, 4), /Invalid minSize = 4/);
  // Isolated points: a graph without edges has only singleton components.
  const bare = forestHierarchyOnGraph(graph(3, []));
  assert.deepEqual([...cutAtMinSize(bare, 3, 1).labels], [0, 1, 2]);
});

Deno.test("cutAtMinSize: bad arguments are one-line typed errors naming the argument and value", () => {
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [
      () => cutAtMinSize(h, 2, 0),
      RangeError,
      /^Invalid minSize = 0: .*\[1, 24\] for n = 24 points$/,
    ],
    [() => cutAtMinSize(h, 2, 1.5), RangeError, /^Invalid minSize = 1\.5/],
    [() => cutAtMinSize(h, 2, 25), RangeError, /^Invalid minSize = 25/],
    [
      () => cutAtMinSize(h, 2, "3" as never),
      TypeError,
      /^Expected minSize to be a number, got "3"$/,
    ],
    [() => cutAtMinSize(h, 0, 1), RangeError, /^Invalid k = 0: .*\[1, 24\] for n = 24$/],
    [() => cutAtMinSize(h, 25, 1), RangeError, /^Invalid k = 25/],
    [() => cutAtMinSize(h, NaN, 1), RangeError, /^Invalid k = NaN/],
    [
      () => cutAtMinSize(h, 3, 12),
      RangeError,
      /^Invalid k = 3: with minSize = 12 the hierarchy has only [12] clusters? of at least 12 points/,
    ],
    [() => cutAtMinSize({ n: 3 } as never, 1, 1), TypeError, /^Expected h to be a Hierarchy/],
    [() => cutAtMinSize(null as never, 1, 1), TypeError, /^Expected h to be a Hierarchy/],
  ];
  const bad = (left: number[], right: number[], weights: number[]): Hierarchy => ({
    n: 3,
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    weights: Float64Array.from(weights),
  });
  cases.push(
    [
      () => cutAtMinSize(bad([0, 0], [1, 3], [2, 1]), 1, 1),
      RangeError,
      /merge 1 joins points 0 and 3/,
    ],
    [
      () => cutAtMinSize(bad([0, 1], [1, 1], [2, 1]), 1, 1),
      RangeError,
      /merge 1 joins points 1 and 1/,
    ],
    [
      () => cutAtMinSize(bad([0, 1], [1, 2], [1, 2]), 1, 1),
      RangeError,
      /merge 1 has similarity 2 after 1/,
    ],
    [() => cutAtMinSize(bad([0, 1], [1, 2], [1, NaN]), 1, 1), RangeError, /similarity NaN/],
    [
      () => cutAtMinSize(bad([0, 0], [1, 1], [2, 1]), 1, 1),
      RangeError,
      /merge 1 joins points 0 and 1, already joined/,
    ],
    [() => cutAtMinSize(bad([0, 0, 1], [1, 2, 2], [3, 2, 1]), 1, 1), TypeError, /Expected h/],
  );
  for (const [f, type, pattern] of cases) {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof type, String(e));
      assert.match((e as Error).message, pattern);
      assert.ok(!(e as Error).message.includes("\n"), (e as Error).message);
      return true;
    });
  }
});
