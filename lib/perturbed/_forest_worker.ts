/**
 * Worker entry point of {@link ForestWorkerPool}: runs the chunks of Monte-Carlo samples it is
 * posted ({@link runChunk}) and posts back the sums, transferring their buffers. Web-standard
 * only (`onmessage` / `postMessage`), so it runs in browsers too. Load it only as a module
 * worker: `new Worker(new URL("./_forest_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */
import { type ChunkRequest, runChunk } from "./forest_pool.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ChunkRequest>) => void) | null;
  postMessage: (message: unknown, transfer: Transferable[]) => void;
};
scope.onmessage = (e) => {
  try {
    const out = runChunk(e.data);
    const buffers = [out.adjacency, out.connectivity, out.values].map((a) => a.buffer);
    scope.postMessage(out, buffers as ArrayBuffer[]);
  } catch (err) {
    const empty = new Float64Array(0);
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    scope.postMessage(
      { id: e.data.id, adjacency: empty, connectivity: empty, values: empty, error },
      [],
    );
  }
};
