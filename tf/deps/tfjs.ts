/**
 * The one place tfjs is imported from. The WebGPU and WebAssembly backends register themselves
 * on import; the wasm backend is pointed at its installed `.wasm` binaries here (else tfjs
 * would fetch them from a relative web path). The optional native backends (tfjs-node /
 * tfjs-node-gpu) are loaded dynamically by tf/backend.ts when present.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
import * as tfWasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";

/**
 * `file:` URL of the directory holding tfjs-backend-wasm's binaries (ends in `/`), or a note
 * saying why there is none: in a single-file bundle (`deno bundle`, as scripts/gpu_check.sh
 * carries to a GPU machine) the npm package cannot be resolved, and only the wasm backend
 * needs it.
 */
export const WASM_BINARY_DIR: string = (() => {
  try {
    return new URL(".", import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0")).href;
  } catch (e) {
    return `<unresolved: ${(e as Error).message}>`;
  }
})();
if (WASM_BINARY_DIR.startsWith("file:")) tfWasm.setWasmPaths(WASM_BINARY_DIR);

// The cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner
// (tfjs-node cannot be installed here, see tf/backend.ts) on its first tensor, in the middle
// of progress output. Mark it as already used; tfjs's other warnings stay on.
const cpuBackend = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
if (cpuBackend !== null) cpuBackend.firstUse = false;

export { tf, tfWasm };
