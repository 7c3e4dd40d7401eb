/**
 * The one place tfjs is imported from. The WebGPU backend registers itself on import; the
 * optional native backends (tfjs-node / tfjs-node-gpu) are loaded dynamically by
 * experiments/tf/backend.ts when present.
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
export { tf };
