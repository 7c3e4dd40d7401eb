/**
 * Worker entry point of {@link MembershipWorkerPool}: runs the chunks of membership samples it
 * is posted ({@link runMembershipChunk}) and posts back the sums, transferring their buffers.
 * Web-standard only (`onmessage` / `postMessage`). Load it only as a module worker:
 * `new Worker(new URL("./_membership_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */
import { serveChunks } from "../core/_worker_pool.ts";
import {
  type MembershipChunkRequest,
  type MembershipChunkResult,
  runMembershipChunk,
} from "./_membership_chunk.ts";

serveChunks<MembershipChunkRequest, MembershipChunkResult>(runMembershipChunk, [
  "counts",
  "weighted",
  "plain",
  "payoff",
]);
