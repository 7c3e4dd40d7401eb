/**
 * Internal (not re-exported by `mod.ts`): the plumbing shared by the worker pools of the
 * Monte-Carlo estimates (`perturbed/forest_pool.ts`, `graph/membership_pool.ts`). A pool posts
 * chunks of samples to a fixed set of module workers, round robin, and resolves each chunk's
 * promise when its id comes back; a worker serves chunks with {@link serveChunks}. What a chunk
 * holds, and how the main thread adds the chunks' sums, stays with each estimator. Web-standard
 * APIs only (Worker, postMessage), so it also runs in browsers.
 *
 * @module
 */
import { assertIntegerInRange } from "./errors.ts";
import type { NoiseName } from "./noise.ts";

/** A request's id, echoed back by the worker with its answer. */
export interface ChunkMessage {
  /** Request id. */
  readonly id: number;
}

/** What every chunk answers: its id, and an error message when the chunk failed. */
export interface ChunkAnswer extends ChunkMessage {
  /** Error message when the chunk failed. */
  readonly error?: string;
}

/** The samples of one chunk of an estimate, and the noise that draws them. */
export interface NoiseChunk extends ChunkMessage {
  /** Noise scale ε. */
  readonly epsilon: number;
  /** Noise distribution. */
  readonly noise: NoiseName;
  /** Antithetic pairs. */
  readonly antithetic: boolean;
  /** Seed of the whole estimate. */
  readonly seed: number;
  /** First sample of the chunk (even when antithetic). */
  readonly lo: number;
  /** One past the last sample of the chunk. */
  readonly hi: number;
}

/**
 * `a` in a SharedArrayBuffer, so that every worker reads one copy: `a` itself when it is
 * already shared or the platform has no SharedArrayBuffer (then it is structured-cloned).
 *
 * @param a An array.
 * @returns `a`, or a shared copy of it.
 */
export function shared<T extends Int32Array | Float64Array>(a: T): T {
  if (typeof SharedArrayBuffer !== "function" || a.buffer instanceof SharedArrayBuffer) return a;
  const out = new (a.constructor as { new (b: SharedArrayBuffer): T })(
    new SharedArrayBuffer(a.byteLength),
  );
  out.set(a as never);
  return out;
}

/**
 * Module workers answering chunk requests, each request's answer a promise.
 *
 * @typeParam Request What a worker is posted.
 * @typeParam Answer What it posts back.
 */
export class ChunkWorkers<Request extends ChunkMessage, Answer extends ChunkAnswer> {
  readonly #workers: Worker[];
  readonly #pending = new Map<
    number,
    { resolve: (r: Answer) => void; reject: (e: Error) => void }
  >();
  readonly #name: string;
  #nextId = 0;

  /**
   * Starts `size` module workers.
   *
   * @param url The worker module.
   * @param size Number of workers, an integer in [1, 256].
   * @param name What the workers compute, for error messages ("forest", "membership").
   * @throws {RangeError} If `size` is not an integer in [1, 256].
   */
  constructor(url: URL, size: number, name: string) {
    assertIntegerInRange("size", size, 1, 256);
    this.#name = name;
    this.#workers = Array.from({ length: size }, () => new Worker(url, { type: "module" }));
    const label = name[0].toUpperCase() + name.slice(1);
    for (const w of this.#workers) {
      w.onmessage = (e: MessageEvent<Answer>) => {
        const p = this.#pending.get(e.data.id);
        if (!p) return;
        this.#pending.delete(e.data.id);
        if (e.data.error !== undefined) p.reject(new Error(e.data.error));
        else p.resolve(e.data);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        const error = new Error(`${label} worker failed: ${e.message}`);
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
      };
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#workers.length;
  }

  /**
   * Posts chunk c to worker c mod size, each with a fresh id.
   *
   * @param requests The chunks, without their ids.
   * @returns The answers, in the chunks' order (rejected when a chunk or a worker fails).
   */
  run(requests: readonly Omit<Request, "id">[]): Promise<Answer[]> {
    return Promise.all(requests.map((chunk, c) => {
      const request = { ...chunk, id: this.#nextId++ } as Request;
      return new Promise<Answer>((resolve, reject) => {
        this.#pending.set(request.id, { resolve, reject });
        this.#workers[c % this.#workers.length].postMessage(request);
      });
    }));
  }

  /** Stops every worker; pending chunks are rejected. */
  terminate(): void {
    for (const w of this.#workers) w.terminate();
    const error = new Error(`The ${this.#name} worker pool was terminated`);
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/**
 * Makes the calling module worker answer each request with `run(request)`, transferring the
 * answer's arrays; when `run` throws, it answers the request's id, empty arrays and the error.
 *
 * @param run Computes one chunk.
 * @param arrays The answer's array fields.
 */
export function serveChunks<Request extends ChunkMessage, Answer extends ChunkAnswer>(
  run: (r: Request) => Answer,
  arrays: readonly (keyof Answer & string)[],
): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<Request>) => void) | null;
    postMessage: (message: unknown, transfer: Transferable[]) => void;
  };
  scope.onmessage = (e) => {
    try {
      const out = run(e.data);
      const buffers = arrays.map((f) => (out[f] as Float64Array).buffer);
      scope.postMessage(out, buffers as ArrayBuffer[]);
    } catch (err) {
      const empty = new Float64Array(0);
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const failed: Record<string, unknown> = { id: e.data.id };
      for (const f of arrays) failed[f] = empty;
      scope.postMessage({ ...failed, error }, []);
    }
  };
}
