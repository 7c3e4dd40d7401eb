/**
 * Worker entry point of {@link MembershipWorkerPool}: runs the chunks of membership samples it
 * is posted ({@link runMembershipChunk}) and posts back the sums, transferring their buffers.
 * Web-standard only (`onmessage` / `postMessage`). Load it only as a module worker:
 * `new Worker(new URL("./_membership_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */
import { type MembershipChunkRequest, runMembershipChunk } from "./_membership_chunk.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<MembershipChunkRequest>) => void) | null;
  postMessage: (message: unknown, transfer: Transferable[]) => void;
};
scope.onmessage = (e) => {
  try {
    const out = runMembershipChunk(e.data);
    const buffers = [out.counts, out.weighted, out.plain, out.payoff].map((a) => a.buffer);
    scope.postMessage(out, buffers as ArrayBuffer[]);
  } catch (err) {
    const empty = new Float64Array(0);
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    scope.postMessage(
      { id: e.data.id, counts: empty, weighted: empty, plain: empty, payoff: empty, error },
      [],
    );
  }
};
