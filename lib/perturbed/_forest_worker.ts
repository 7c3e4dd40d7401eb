/**
 * Worker entry point of {@link ForestWorkerPool}: runs the chunks of Monte-Carlo samples it is
 * posted ({@link runChunk}) and posts back the sums, transferring their buffers. Web-standard
 * only (`onmessage` / `postMessage`), so it runs in browsers too. Load it only as a module
 * worker: `new Worker(new URL("./_forest_worker.ts", import.meta.url), { type: "module" })`.
 *
 * @module
 */
import { serveChunks } from "../core/_worker_pool.ts";
import { type ChunkRequest, type ChunkResult, runChunk } from "./forest_pool.ts";

serveChunks<ChunkRequest, ChunkResult>(runChunk, ["adjacency", "connectivity", "values"]);
