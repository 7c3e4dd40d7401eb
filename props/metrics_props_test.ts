import assert from "node:assert/strict";
import { fc } from "./deps.ts";
import {
  adjustedRandIndex,
  clusteringAccuracy,
  connectivityAccuracy,
  connectivityFromLabels,
  hungarian,
  normalizedMutualInfo,
} from "../lib/metrics/metrics.ts";

const MAX_K = 6;

/** Two labellings of the same length with labels in [0, MAX_K). */
const labelPair = fc.integer({ min: 1, max: 40 }).chain((n) =>
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: MAX_K - 1 }), { minLength: n, maxLength: n }),
    fc.array(fc.integer({ min: 0, max: MAX_K - 1 }), { minLength: n, maxLength: n }),
  )
);

/** An injective relabelling of [0, MAX_K): a permutation plus an arbitrary integer offset. */
const relabelling = fc.tuple(
  fc.shuffledSubarray([...Array(MAX_K).keys()], { minLength: MAX_K, maxLength: MAX_K }),
  fc.integer({ min: -1000, max: 1000 }),
).map(([perm, offset]) => (labels: number[]) => labels.map((l) => perm[l] + offset));

const distinct = (labels: number[]) => new Set(labels).size;
/** Equal up to float64 rounding of sums over ≤ 40 × 40 terms. */
const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12;

Deno.test("metrics are invariant under relabelling of either partition", () => {
  fc.assert(
    fc.property(labelPair, relabelling, relabelling, ([a, b], fa, fb) => {
      const a2 = fa(a), b2 = fb(b);
      assert.ok(close(adjustedRandIndex(a2, b2), adjustedRandIndex(a, b)));
      assert.ok(close(normalizedMutualInfo(a2, b2), normalizedMutualInfo(a, b)));
      assert.ok(close(clusteringAccuracy(a2, b2), clusteringAccuracy(a, b)));
      assert.equal(
        connectivityAccuracy(connectivityFromLabels(a2), connectivityFromLabels(b2)),
        connectivityAccuracy(connectivityFromLabels(a), connectivityFromLabels(b)),
      );
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("metrics equal 1 for identical partitions", () => {
  fc.assert(
    fc.property(labelPair, relabelling, ([a], f) => {
      const b = f(a);
      assert.equal(adjustedRandIndex(a, b), 1);
      assert.ok(close(normalizedMutualInfo(a, b), 1));
      assert.equal(clusteringAccuracy(a, b), 1);
      assert.equal(connectivityAccuracy(connectivityFromLabels(a), connectivityFromLabels(b)), 1);
    }),
    { seed: 42, numRuns: 200 },
  );
});

Deno.test("ARI and NMI are symmetric; ranges hold (ACC in [1/max(k_pred, k_truth), 1])", () => {
  fc.assert(
    fc.property(labelPair, ([a, b]) => {
      const ari = adjustedRandIndex(a, b), nmi = normalizedMutualInfo(a, b);
      assert.ok(close(ari, adjustedRandIndex(b, a)));
      assert.ok(close(nmi, normalizedMutualInfo(b, a)));
      assert.ok(ari >= -0.5 - 1e-12 && ari <= 1, `ARI ${ari}`);
      assert.ok(nmi >= 0 && nmi <= 1, `NMI ${nmi}`);
      const acc = clusteringAccuracy(a, b);
      // Padding the contingency table to m × m (m = max(k_a, k_b)), its m cyclic diagonals
      // partition all entries, so the best matching holds at least n / m points.
      const m = Math.max(distinct(a), distinct(b));
      assert.ok(acc >= 1 / m - 1e-12 && acc <= 1, `ACC ${acc} with m = ${m}`);
    }),
    { seed: 42, numRuns: 300 },
  );
});

/** Minimum over all injective maps from the smaller side to the larger side. */
function bruteForceAssignment(cost: number[][]): number {
  const rows = cost.length, cols = cost[0].length;
  const small = Math.min(rows, cols), large = Math.max(rows, cols);
  const at = (s: number, l: number) => rows <= cols ? cost[s][l] : cost[l][s];
  let best = Infinity;
  const used = new Array<boolean>(large).fill(false);
  const search = (s: number, acc: number) => {
    if (s === small) {
      best = Math.min(best, acc);
      return;
    }
    for (let l = 0; l < large; l++) {
      if (used[l]) continue;
      used[l] = true;
      search(s + 1, acc + at(s, l));
      used[l] = false;
    }
  };
  search(0, 0);
  return best;
}

Deno.test("hungarian equals brute force over assignments for sizes up to 6 × 6", () => {
  const costMatrix = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
    .chain(([r, c]) =>
      fc.array(
        // Small integer range forces many ties; integers keep the brute-force sum exact.
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: c, maxLength: c }),
        { minLength: r, maxLength: r },
      )
    );
  fc.assert(
    fc.property(costMatrix, (cost) => {
      const { assignment, cost: value } = hungarian(cost);
      const rows = cost.length, cols = cost[0].length;
      assert.equal(value, bruteForceAssignment(cost));
      const matched = Array.from(assignment).filter((j) => j >= 0);
      assert.equal(matched.length, Math.min(rows, cols));
      assert.equal(new Set(matched).size, matched.length);
      assert.equal(assignment.reduce((s, j, i) => s + (j >= 0 ? cost[i][j] : 0), 0), value);
    }),
    { seed: 42, numRuns: 300 },
  );
});

Deno.test("hungarian with real-valued costs matches brute force to rounding", () => {
  const costMatrix = fc.integer({ min: 1, max: 6 }).chain((n) =>
    fc.array(
      fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n }),
      { minLength: n, maxLength: n },
    )
  );
  fc.assert(
    fc.property(costMatrix, (cost) => {
      const got = hungarian(cost).cost, want = bruteForceAssignment(cost);
      // Both sum ≤ 6 terms of magnitude ≤ 1e3 in different orders: rounding ≤ 6 × 1e3 × 2⁻⁵².
      assert.ok(Math.abs(got - want) <= 1e-9, `${got} vs ${want}`);
    }),
    { seed: 42, numRuns: 200 },
  );
});
