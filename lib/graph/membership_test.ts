/**
 * clusterMembership against an independent dense brute-force estimator, its ε → 0 limit
 * (assignPoints), determinism, and the VJP against finite differences.
 *
 * Statistical tolerances. Two independent Monte-Carlo estimates p̂₁ (S₁ samples) and p̂₂ (S₂)
 * of one probability differ by a zero-mean amount of standard deviation
 * σ = √(p(1 − p)(v₁/S₁ + 1/S₂)), v₁ = 1 for independent samples and v₁ ≤ 2 for antithetic
 * pairs (Var((a + b)/2) ≤ Var(a)). Each comparison allows 4σ̂ (σ̂ from the pooled p̂, floored at
 * one count, 1/min(S₁, S₂)), a two-sided Gaussian false-alarm rate of 6.3·10⁻⁵ per comparison;
 * the whole file makes about 250 comparisons, so the chance that a correct implementation
 * fails for some seed is about 1.6 %, and with the fixed seeds here it passes or fails
 * deterministically.
 */
import assert from "node:assert/strict";
import { fitClusters, type FittedClusters } from "./fitted_clusters.ts";
import { assignPoints } from "./assign_points.ts";
import { clusterMembership, clusterMembershipVjp, type MembershipOptions } from "./membership.ts";
import { MembershipWorkerPool } from "./membership_pool.ts";

/** Reproducible uniform numbers (LCG), and standard normals from them (Box–Muller). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
}
function normal(seed: number): () => number {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function blobs(n: number, d: number, centres: number[][], spread: number, seed: number) {
  const u = uniform(seed);
  return Array.from(
    { length: n },
    (_, i) => centres[i % centres.length].slice(0, d).map((v) => v + spread * (u() - 0.5)),
  );
}

const d2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let t = 0; t < a.length; t++) s += (a[t] - b[t]) ** 2;
  return s;
};

/**
 * The definition, densely: per sample, every edge of the fitted graph (all pairs for a dense
 * fit) and of x's m nearest training points perturbed with independent normals, Kruskal over
 * all of them, the model's cut, x's tree, the vote. Similarities recomputed from the model's
 * preprocessed points (−d², or mutual reachability with cores found by sorting).
 */
function bruteForceMembership(
  model: FittedClusters,
  fresh: number[][] | "training",
  m: number,
  epsilon: number,
  samples: number,
  seed: number,
): number[][] {
  const n = model.n, d = model.d, K = model.clusters, y = model.points.data;
  const row = (i: number) => y.subarray(i * d, (i + 1) * d);
  const ms = model.minSamples;
  const core = Array.from(
    { length: n },
    (_, i) =>
      ms === undefined
        ? 0
        : Array.from({ length: n }, (_, j) => (j === i ? Infinity : d2(row(i), row(j))))
          .sort((a, b) => a - b)[ms - 1],
  );
  const sim = (i: number, j: number) => -Math.max(d2(row(i), row(j)), core[i], core[j]);
  const base: [number, number, number][] = [];
  if (model.graph === undefined) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) base.push([i, j, sim(i, j)]);
  } else {
    // The joining edges of a kNN fit keep plain −d² (they come after the kNN edges).
    const g = model.graph, joined = new Set<number>();
    for (let e = 0; e < g.from.length; e++) {
      const plain = -d2(row(g.from[e]), row(g.to[e]));
      base.push([g.from[e], g.to[e], g.weight[e] === plain ? plain : sim(g.from[e], g.to[e])]);
      if (g.weight[e] === plain) joined.add(e);
    }
  }
  const z = normal(seed), points = fresh === "training" ? n : fresh.length;
  const out = Array.from({ length: points }, () => new Array(K + 1).fill(0));
  const cut = model.cut;
  // Training points are estimated together (one forest per sample votes for all of them);
  // new points one at a time, each with its own samples.
  for (let p = 0; p < (fresh === "training" ? 1 : points); p++) {
    const edges = base.map(([i, j, w]) => [i, j, w] as [number, number, number]);
    let self = p;
    if (fresh !== "training") {
      const x = preprocess(model, fresh[p]);
      const near = Array.from({ length: n }, (_, j) => j)
        .sort((a, b) => d2(x, row(a)) - d2(x, row(b)) || a - b).slice(0, m);
      const cx = ms === undefined ? 0 : d2(x, row(near[ms - 1]));
      for (const j of near) edges.push([j, n, -Math.max(d2(x, row(j)), cx, core[j])]);
      self = n;
    }
    const N = fresh === "training" ? n : n + 1;
    for (let s = 0; s < samples; s++) {
      const perturbed = edges.map(([i, j, w]) => [i, j, w + epsilon * z()] as const)
        .sort((a, b) => b[2] - a[2]);
      const parent = Array.from({ length: N }, (_, i) => i), size = new Array(N).fill(1);
      const find = (v: number): number => (parent[v] === v ? v : (parent[v] = find(parent[v])));
      const merges: (readonly [number, number, number])[] = [];
      for (const e of perturbed) {
        const a = find(e[0]), b = find(e[1]);
        if (a !== b) {
          parent[a] = b;
          merges.push(e);
        }
      }
      let keep: (t: number) => boolean;
      if (cut.kind === "k") keep = (t) => t < N - cut.k;
      else if (cut.kind === "threshold") keep = (t) => merges[t][2] >= cut.threshold;
      else {
        parent.forEach((_, i) => (parent[i] = i));
        size.fill(1);
        const genuine = merges.map(([i, j]) => {
          const a = find(i), b = find(j), g = Math.min(size[a], size[b]) >= cut.minSize;
          parent[a] = b;
          size[b] += size[a];
          return g;
        });
        const undone = new Set<number>();
        for (let t = merges.length - 1; t >= 0 && undone.size < cut.k - 1; t--) {
          if (genuine[t]) undone.add(t);
        }
        keep = (t) => !undone.has(t);
      }
      parent.forEach((_, i) => (parent[i] = i));
      merges.forEach(([i, j], t) => {
        if (keep(t)) parent[find(i)] = find(j);
      });
      for (const who of fresh === "training" ? Array.from({ length: n }, (_, i) => i) : [self]) {
        const votes = new Array(K).fill(0), root = find(who);
        for (let i = 0; i < n; i++) if (find(i) === root) votes[model.labels[i]]++;
        let w = -1;
        for (let c = 0; c < K; c++) if (votes[c] > 0 && (w === -1 || votes[c] > votes[w])) w = c;
        out[fresh === "training" ? who : p][w === -1 ? K : w]++;
      }
    }
  }
  return out.map((r) => r.map((c) => c / samples));
}

/** The model's preprocessing, written out (standardise, then unit length for cosine). */
function preprocess(model: FittedClusters, x: number[]): number[] {
  let u = x.map((v, t) =>
    model.mean === undefined ? v : model.sd![t] > 0 ? (v - model.mean[t]) / model.sd![t] : 0
  );
  if (model.metric === "cosine") {
    const norm = Math.hypot(...u);
    u = u.map((v) => v / norm);
  }
  return u;
}

/** Clusters of the training points among x's m nearest whose similarity to x is above λ. */
function bridges(model: FittedClusters, x: number[], m: number): number[] {
  const n = model.n, d = model.d, y = model.points.data, ms = model.minSamples;
  const row = (i: number) => y.subarray(i * d, (i + 1) * d);
  const core = (i: number) =>
    ms === undefined
      ? 0
      : Array.from({ length: n }, (_, j) => (j === i ? Infinity : d2(row(i), row(j))))
        .sort((a, b) => a - b)[ms - 1];
  const near = Array.from({ length: n }, (_, j) => j)
    .sort((a, b) => d2(x, row(a)) - d2(x, row(b)) || a - b).slice(0, m);
  const cx = ms === undefined ? 0 : d2(x, row(near[ms - 1]));
  return near.filter((j) => -Math.max(d2(x, row(j)), cx, core(j)) > model.lambda)
    .map((j) => model.labels[j]);
}

/** |a − b| within 4σ̂ (module doc), for every point and class. */
function assertClose(
  got: { probabilities: Float64Array; outlier: Float64Array; clusters: number },
  want: number[][],
  s1: number,
  s2: number,
  v1: number,
  what: string,
): void {
  const K = got.clusters;
  want.forEach((row, p) => {
    row.forEach((w, c) => {
      const g = c < K ? got.probabilities[p * K + c] : got.outlier[p];
      const pooled = (g + w) / 2;
      const sigma = Math.max(
        Math.sqrt(pooled * (1 - pooled) * (v1 / s1 + 1 / s2)),
        1 / Math.min(s1, s2),
      );
      assert.ok(
        Math.abs(g - w) <= 4 * sigma,
        `${what}: point ${p}, class ${c}: ${g} vs brute force ${w} (4σ = ${4 * sigma})`,
      );
    });
  });
}

const CENTRES = [[0, 0, 0], [6, 1, 2], [1, 7, -1]];

Deno.test("clusterMembership matches the dense brute-force estimator within 4σ (k, threshold, min-size)", () => {
  const train = blobs(36, 2, CENTRES, 2.5, 1);
  const fresh = [[3, 0.5], [0.5, 3.5], [4, 4], [0.2, -0.3], [12, 12], [3.5, 4.2]];
  const S = 3000;
  const models: [string, FittedClusters, number][] = [
    ["k", fitClusters(train, { k: 3 }), 6],
    ["threshold", fitClusters(train, { threshold: -6 }), 6],
    ["min-size", fitClusters(train, { k: 2, minSize: 4 }), 36],
    ["reachability", fitClusters(train, { k: 3, minSamples: 3 }), 5],
  ];
  let unsure = 0;
  for (const [what, model, m] of models) {
    const epsilon = 3;
    const opts: MembershipOptions = { epsilon, samples: S, seed: 5, neighbours: m };
    const got = clusterMembership(model, fresh, opts);
    const want = bruteForceMembership(model, fresh, m, epsilon, S, 77);
    assertClose(got, want, S, S, 1, what);
    for (const p of got.probabilities) if (p > 0.1 && p < 0.9) unsure++;
    // Antithetic pairs: the same expectation, variance at most doubled per pair member.
    const anti = clusterMembership(model, fresh, { ...opts, antithetic: true, seed: 6 });
    assertClose(anti, want, S, S, 2, `${what} antithetic`);
  }
  assert.ok(unsure >= 8, `the comparison is not trivial (${unsure} probabilities in (0.1, 0.9))`);
});

Deno.test("clusterMembership of the training points and on a kNN-graph fit matches brute force", () => {
  const train = blobs(40, 2, CENTRES, 3, 2);
  const S = 2000;
  for (
    const [what, model] of [
      ["dense k", fitClusters(train, { k: 3 })],
      ["dense min-size", fitClusters(train, { k: 3, minSize: 4 })],
      ["knn graph", fitClusters(train, { k: 3, method: "knn", neighbours: 4 })],
    ] as const
  ) {
    const got = clusterMembership(model, "training", { epsilon: 2, samples: S, seed: 3 });
    assertClose(got, bruteForceMembership(model, "training", 0, 2, S, 9), S, S, 1, what);
    const fresh = [[2, 1], [3, 4], [9, 9]];
    const gotNew = clusterMembership(model, fresh, {
      epsilon: 2,
      samples: S,
      seed: 4,
      neighbours: 4,
    });
    assertClose(gotNew, bruteForceMembership(model, fresh, 4, 2, S, 10), S, S, 1, `${what} new`);
  }
});

Deno.test("clusterMembership as ε → 0 is assignPoints with outliers rejected", () => {
  const train = blobs(60, 3, CENTRES, 2, 3);
  const u = uniform(4);
  const fresh = Array.from({ length: 40 }, () => [u() * 10 - 2, u() * 10 - 2, u() * 6 - 3]);
  for (
    const model of [
      fitClusters(train, { k: 3 }),
      fitClusters(train, { threshold: -3 }),
      fitClusters(train, { k: 3, minSamples: 4 }),
      fitClusters(train, { k: 3, method: "knn", neighbours: 5 }),
    ]
  ) {
    const a = assignPoints(model, fresh, { outliers: "reject" });
    const p = clusterMembership(model, fresh, { epsilon: 1e-9, samples: 4, neighbours: 8 });
    const K = model.clusters;
    let checked = 0;
    fresh.forEach((_, q) => {
      // Clear of the cut level, and no bridge to another cluster among its 8 edges.
      if (Math.abs(a.similarity[q] - model.lambda) < 1e-6) return;
      const want = new Array(K + 1).fill(0);
      want[a.labels[q] === -1 ? K : a.labels[q]] = 1;
      const got = [...p.probabilities.subarray(q * K, q * K + K), p.outlier[q]];
      if (got.join() === want.join()) checked++;
      else {
        // Only a point that bridges two clusters above λ may differ: among its 8 edges, two
        // of different clusters are above λ.
        const bridged = new Set(bridges(model, fresh[q], 8));
        assert.ok(bridged.size >= 2, `point ${q}: ${got} vs ${want}`);
      }
    });
    assert.ok(checked >= 30, `${model.cut.kind}: ${checked} points checked`);
    const t = clusterMembership(model, "training", { epsilon: 1e-9, samples: 2 });
    for (let i = 0; i < model.n; i++) assert.equal(t.probabilities[i * K + model.labels[i]], 1);
  }
});

Deno.test("clusterMembership without noise equals brute-force Kruskal of train ∪ {x}, bridges included", () => {
  // Small random configurations, every cut, any m: with ε = 10⁻¹² each sample is the
  // unperturbed problem (similarities are continuous: no two within 10⁻¹¹ but with
  // probability ~10⁻⁶), which the brute force solves with ε = 0.
  const u = uniform(21);
  let trials = 0;
  while (trials < 300) {
    const n = 4 + Math.floor(u() * 14), d = 1 + Math.floor(u() * 2);
    const train = Array.from({ length: n }, () => Array.from({ length: d }, () => 10 * u()));
    const x = [Array.from({ length: d }, () => 10 * u())];
    const k = 1 + Math.floor(u() * (n - 1)), m = 1 + Math.floor(u() * n);
    const kind = trials % 3;
    let model: FittedClusters;
    try {
      model = kind === 0
        ? fitClusters(train, { k })
        : kind === 1
        ? fitClusters(train, { threshold: -((3 * u()) ** 2) })
        : fitClusters(train, { k: Math.min(k, 3), minSize: 1 + Math.floor(u() * 3) });
    } catch {
      continue; // fewer clusters of the minimum size than asked
    }
    const got = clusterMembership(model, x, { epsilon: 1e-12, samples: 2, neighbours: m });
    const want = bruteForceMembership(model, x, m, 0, 1, 0)[0];
    assert.deepEqual(
      [...got.probabilities, got.outlier[0]],
      want,
      `trial ${trials}: n ${n}, cut ${JSON.stringify(model.cut)}, m ${m}`,
    );
    trials++;
  }
});

Deno.test("clusterMembership: same seed, same numbers; errors name the argument", () => {
  const model = fitClusters(blobs(30, 2, CENTRES, 2, 5), { k: 3 });
  const opts = { epsilon: 1, samples: 64, seed: 9, antithetic: true };
  assert.deepStrictEqual(
    clusterMembership(model, [[1, 1], [3, 3]], opts),
    clusterMembership(model, [[1, 1], [3, 3]], opts),
  );
  // A point's estimate does not depend on the other points passed with it.
  const both = clusterMembership(model, [[1, 1], [3, 3]], opts);
  const alone = clusterMembership(model, [[1, 1]], opts);
  assert.deepStrictEqual(both.probabilities.subarray(0, 3), alone.probabilities);
  const oneLine = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes("\n"));
  oneLine(
    () => clusterMembership(model, [[1, 1]], { epsilon: 0, samples: 4 }),
    /Invalid epsilon = 0/,
  );
  oneLine(
    () => clusterMembership(model, [[1]], { epsilon: 1, samples: 4 }),
    /Invalid points: they have 1/,
  );
  oneLine(
    () => clusterMembership(model, [[1, NaN]], { epsilon: 1, samples: 4 }),
    /points\[0\]\[1\] = NaN/,
  );
  oneLine(
    () => clusterMembership(model, [[1, 1]], { epsilon: 1, samples: 3, antithetic: true }),
    /Invalid samples = 3 with antithetic/,
  );
  oneLine(
    () => clusterMembership(model, [[1, 1]], { epsilon: 1, samples: 4, neighbours: 31 }),
    /Invalid neighbours = 31/,
  );
  oneLine(
    () => clusterMembershipVjp(model, [[1, 1]], [[1, 0]], { epsilon: 1, samples: 4 }),
    /Invalid cotangent: 1 × 2, expected .* 1 × 4/,
  );
});

Deno.test("clusterMembershipVjp matches finite differences of independent estimates (10⁴ samples each)", () => {
  // Two groups on a line (a second, idle coordinate); a point between them; m = n so that the
  // neighbour set cannot change. Central differences with h = 0.1: p varies on a scale of
  // about 1 here, so the O(h²) bias (≈ 0.002) is far below the tolerance.
  const left = [[0, 0], [1, 0.5], [2, -0.5], [0.5, 1], [1.5, -1]];
  const right = left.map(([a, b]) => [a + 10, -b]);
  const train = [...left, ...right];
  const h = 0.1, S = 10_000;
  const cases: [string, FittedClusters, number[]][] = [
    ["sqeuclidean", fitClusters(train, { k: 2 }), [5, 0.3]],
    ["standardised", fitClusters(train.map(([a, b]) => [a, 30 * b]), { k: 2, standardise: true }), [
      5,
      6,
    ]],
    ["reachability", fitClusters(train, { k: 2, minSamples: 2 }), [5.5, 0.2]],
    ["cosine", fitClusters(train.map(([a, b]) => [a + 1, b + 3]), { k: 2, metric: "cosine" }), [
      6,
      3.5,
    ]],
  ];
  for (const [what, model, x] of cases) {
    const K = model.clusters, m = model.n;
    const eps = what === "cosine" ? 0.05 : what === "standardised" ? 0.6 : 6;
    const opts = { epsilon: eps, samples: S, neighbours: m };
    const prob = (point: number[], seed: number) =>
      clusterMembership(model, [point], { ...opts, seed }).probabilities[0];
    // VJP of p_0: 10 independent batches of 2000 antithetic samples, mean and standard error.
    const cot = [[1, ...new Array(K).fill(0)]];
    const batches = Array.from(
      { length: 10 },
      (_, b) =>
        clusterMembershipVjp(model, [x], cot, {
          ...opts,
          samples: 2000,
          antithetic: true,
          seed: 100 + b,
        })
          .gradient.data,
    );
    let moved = 0;
    for (let t = 0; t < 2; t++) {
      const values = batches.map((g) => g[t]);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const se = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 9 / 10);
      const plus = [...x], minus = [...x];
      plus[t] += h;
      minus[t] -= h;
      const a = prob(plus, 200 + t), b = prob(minus, 300 + t);
      const fd = (a - b) / (2 * h);
      const seFd = Math.sqrt(a * (1 - a) / S + b * (1 - b) / S) / (2 * h);
      const tol = 4 * Math.sqrt(se * se + seFd * seFd);
      assert.ok(
        Math.abs(mean - fd) <= tol,
        `${what}, coordinate ${t}: VJP ${mean} ± ${se}, finite difference ${fd} ± ${seFd}`,
      );
      if (Math.abs(fd) > 4 * seFd) moved++;
    }
    assert.ok(moved >= 1, `${what}: the probability moves measurably (the test is not vacuous)`);
  }
});

Deno.test("MembershipWorkerPool: bit-identical to the single-threaded estimate for any pool size", async () => {
  const model = fitClusters(blobs(50, 2, CENTRES, 3, 8), { k: 3, method: "knn", neighbours: 5 });
  const fresh = [[2, 2], [4, 5], [0, 6], [9, 9]];
  const opts = { epsilon: 2, samples: 98, seed: 12, antithetic: true, neighbours: 6 };
  const cot = fresh.map((_, p) => [p, 1, -1, 0.5]);
  const single = clusterMembership(model, fresh, opts);
  const singleVjp = clusterMembershipVjp(model, fresh, cot, opts);
  const training = clusterMembership(model, "training", opts);
  for (const size of [1, 2, 3]) {
    const pool = MembershipWorkerPool.create(size);
    try {
      assert.deepStrictEqual(await pool.membership(model, fresh, opts), single);
      assert.deepStrictEqual(await pool.membershipVjp(model, fresh, cot, opts), singleVjp);
      assert.deepStrictEqual(await pool.membership(model, "training", opts), training);
      await assert.rejects(() => pool.membership(model, [[1]], opts), /Invalid points/);
    } finally {
      pool.terminate();
    }
  }
});
