/**
 * Cluster probabilities (`membership.ts`) on several threads: a fixed set of module workers
 * runs the estimate's fixed chunks of samples (`_membership_chunk.ts`), and the main thread
 * adds their sums in chunk order — bit-identical to `clusterMembership` and
 * `clusterMembershipVjp` for the same seed, whatever the pool size.
 *
 * The large arrays (the fitted graph, labels, the points' edges) travel once per estimate: in
 * SharedArrayBuffers read by every worker when the platform offers them (Deno; browsers when
 * cross-origin isolated), structured-cloned otherwise.
 *
 * @module
 */
import { ChunkWorkers, shared } from "../core/_worker_pool.ts";
import type { PointsLike } from "../core/rect_matrix.ts";
import type { FittedClusters } from "./fitted_clusters.ts";
import {
  combineMembership,
  type Membership,
  type MembershipOptions,
  type MembershipWithVjp,
  prepareMembership,
} from "./membership.ts";
import type { MembershipChunkRequest, MembershipChunkResult } from "./_membership_chunk.ts";

/**
 * Module workers computing cluster probabilities. Create with
 * {@link MembershipWorkerPool.create}; call {@link MembershipWorkerPool.terminate} when done.
 *
 * @example Two workers give exactly the single-threaded estimate
 * ```ts
 * import { fitClusters } from "./fitted_clusters.ts";
 * import { clusterMembership } from "./membership.ts";
 * import { MembershipWorkerPool } from "./membership_pool.ts";
 * import assert from "node:assert/strict";
 * const model = fitClusters([[0], [1], [2], [10], [11], [12]], { k: 2 });
 * const opts = { epsilon: 4, samples: 64, seed: 3 };
 * const pool = MembershipWorkerPool.create(2);
 * try {
 *   assert.deepEqual(await pool.membership(model, [[6]], opts), clusterMembership(model, [[6]], opts));
 * } finally {
 *   pool.terminate();
 * }
 * ```
 */
export class MembershipWorkerPool {
  readonly #workers: ChunkWorkers<MembershipChunkRequest, MembershipChunkResult>;

  private constructor(workers: ChunkWorkers<MembershipChunkRequest, MembershipChunkResult>) {
    this.#workers = workers;
  }

  /**
   * Starts `size` module workers.
   *
   * @param size Number of workers, an integer in [1, 256].
   * @returns The pool.
   * @throws {RangeError} If `size` is not an integer in [1, 256].
   *
   * @example
   * ```ts
   * import { MembershipWorkerPool } from "./membership_pool.ts";
   * MembershipWorkerPool.create(1).terminate();
   * ```
   */
  static create(size: number): MembershipWorkerPool {
    const url = new URL("./_membership_worker.ts", import.meta.url);
    return new MembershipWorkerPool(new ChunkWorkers(url, size, "membership"));
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.size;
  }

  async #run(
    model: FittedClusters,
    points: PointsLike | "training",
    options: MembershipOptions,
    cotangent?: PointsLike,
  ): Promise<Membership | MembershipWithVjp> {
    const prepared = prepareMembership(model, points, options, cotangent);
    const r = prepared.request;
    const share = this.#workers.size > 1;
    const base: Omit<MembershipChunkRequest, "id" | "lo" | "hi"> = share
      ? {
        ...r,
        from: shared(r.from),
        to: shared(r.to),
        weight: shared(r.weight),
        labels: shared(r.labels),
        neighbour: r.neighbour && shared(r.neighbour),
        similarity: r.similarity && shared(r.similarity),
        cotangent: r.cotangent && shared(r.cotangent),
      }
      : r;
    const requests = prepared.chunks.map(([lo, hi]) => ({ ...base, lo, hi }));
    const results = await this.#workers.run(requests);
    return combineMembership(model, prepared, results);
  }

  /**
   * `clusterMembership(model, points, options)` on the workers (bit-identical).
   *
   * @param model A fitted model.
   * @param points New points, or "training".
   * @param options As `clusterMembership`.
   * @returns The probabilities.
   * @throws {TypeError | RangeError} As `clusterMembership` (a rejected promise).
   */
  membership(
    model: FittedClusters,
    points: PointsLike | "training",
    options: MembershipOptions,
  ): Promise<Membership> {
    return this.#run(model, points, options);
  }

  /**
   * `clusterMembershipVjp(model, points, cotangent, options)` on the workers (bit-identical).
   *
   * @param model A fitted model.
   * @param points New points.
   * @param cotangent points × (K + 1).
   * @param options As `clusterMembership`.
   * @returns The probabilities and the gradient.
   * @throws {TypeError | RangeError} As `clusterMembershipVjp` (a rejected promise).
   */
  async membershipVjp(
    model: FittedClusters,
    points: PointsLike,
    cotangent: PointsLike,
    options: MembershipOptions,
  ): Promise<MembershipWithVjp> {
    return await this.#run(model, points, options, cotangent) as MembershipWithVjp;
  }

  /**
   * Stops every worker; pending estimates are rejected.
   *
   * @example
   * ```ts
   * import { MembershipWorkerPool } from "./membership_pool.ts";
   * MembershipWorkerPool.create(1).terminate();
   * ```
   */
  terminate(): void {
    this.#workers.terminate();
  }
}
