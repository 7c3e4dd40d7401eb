/**
 * spanclust/expert — the internals that tuning or extending spanclust needs, and that a user of
 * the main entry does not: solvers that skip their argument checks, the matrix product of the
 * exact neighbour search, the worker pool of the Monte-Carlo estimates, edge lookups, and the
 * seeded random streams every estimate draws from.
 *
 * What is here trades safety for speed or control: an `unsafe*` solver trusts its input
 * (validate it once, then call it in a loop), a custom GEMM is trusted to compute the product it
 * is handed. Everything in the main entry keeps working without any of it.
 *
 * @example Validate once, then solve many perturbed copies without re-checking
 * ```ts
 * import { fromData, negSquaredDistances, symmetricNoise } from "./mod.ts";
 * import { unsafeMaxSpanningForest } from "./expert.ts";
 * import assert from "node:assert/strict";
 * const sigma = negSquaredDistances([[0], [1], [10], [11]]); // checked once, here
 * for (let seed = 0; seed < 20; seed++) {
 *   const z = symmetricNoise("gaussian", 4, seed);
 *   const copy = fromData(4, sigma.data.map((s, i) => s + 0.5 * z.data[i]));
 *   assert.deepEqual([...unsafeMaxSpanningForest(copy, 2).labels], [0, 0, 1, 1]);
 * }
 * ```
 *
 * @example Seeded streams: one per (seed, sample), the same numbers on every run
 * ```ts
 * import { fillStandardNormal, foldIn, streamFor } from "./expert.ts";
 * import assert from "node:assert/strict";
 * const draw = (seed: number, sample: number) =>
 *   fillStandardNormal(streamFor(seed, sample), new Float64Array(3));
 * assert.deepEqual(draw(42, 5), draw(42, 5));
 * assert.notDeepEqual(draw(42, 5), draw(42, 6));
 * assert.notEqual(foldIn(42, 5), foldIn(42, 6)); // child seeds, JAX's fold_in
 * ```
 *
 * @example A matrix product of your own for the exact neighbour search
 * ```ts
 * import { exactNeighbours } from "./mod.ts";
 * import { type GemmAbT, jsGemm, type NeighbourGemm } from "./expert.ts";
 * import assert from "node:assert/strict";
 * let calls = 0;
 * const counted: NeighbourGemm = {
 *   precision: "float64",
 *   multiply: (m, n, d, a, b, c) => {
 *     calls++;
 *     (jsGemm.multiply as GemmAbT<Float64Array>)(m, n, d, a, b, c);
 *   },
 * };
 * const points = Array.from({ length: 50 }, (_, i) => [i, (i * 7) % 11]);
 * const mine = exactNeighbours(points, 3, { gemm: counted });
 * assert.ok(calls > 0);
 * assert.deepEqual(mine.index, exactNeighbours(points, 3).index);
 * ```
 *
 * @module
 */

// ## Core: the shape of decoding results, seeded random streams — lib/core/

export type { DecodeContextEntry, DecodeError, Decoder, DecodeResult } from "./lib/core/codecs.ts";
export {
  fillGumbel,
  fillStandardNormal,
  foldIn,
  type RandomStream,
  standardNormal,
  streamFor,
  uniformOpen01,
} from "./lib/core/random.ts";

// ## Forests without argument checks — lib/forest/

export { unsafeForestHierarchy, unsafeMaxSpanningForest } from "./lib/forest/spanning_forest.ts";
export {
  unsafeForestHierarchyOnGraph,
  unsafeMaxSpanningForestOnGraph,
} from "./lib/forest/spanning_forest_on_graph.ts";

// ## Constrained forests without argument checks — lib/constrained/

export { unsafeConstrainedSpanningForest } from "./lib/constrained/constrained_forest.ts";
export { unsafeConstrainedSpanningForestOnGraph } from "./lib/constrained/constrained_forest_on_graph.ts";

// ## Perturbed estimates on a pool of workers — lib/perturbed/

export { ForestWorkerPool, type PoolEstimateOptions } from "./lib/perturbed/forest_pool.ts";
export { MembershipWorkerPool } from "./lib/graph/membership_pool.ts";

// ## Graphs: validation, edge lookup, the product of the exact neighbour search — lib/graph/

export { assertGraph, edgeLookup } from "./lib/graph/graph.ts";
export { type GemmAbT, jsGemm, type NeighbourGemm } from "./lib/graph/exact_neighbours.ts";

// ## Former names of the unchecked graph solvers, kept for one version (CHANGELOG.md)

export { unsafeGraphMaxSpanningForest } from "./lib/forest/spanning_forest_on_graph.ts";
export { unsafeConstrainedForestOnGraph } from "./lib/constrained/constrained_forest_on_graph.ts";
