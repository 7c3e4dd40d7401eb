/**
 * The one place tfjs is imported from. The WebGPU and WebAssembly backends register themselves
 * on import; the wasm backend is pointed at its installed `.wasm` binaries here (else tfjs
 * would fetch them from a relative web path). The optional native backends (tfjs-node /
 * tfjs-node-gpu) are loaded dynamically by experiments/tf/backend.ts when present.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import * as tfWasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";

/** `file:` URL of the directory holding tfjs-backend-wasm's binaries (ends in `/`). */
export const WASM_BINARY_DIR: string = new URL(
  ".",
  import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0"),
).href;
tfWasm.setWasmPaths(WASM_BINARY_DIR);

export { tf, tfWasm };
