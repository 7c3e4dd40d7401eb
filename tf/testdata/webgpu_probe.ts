/**
 * Test fixture of `backend_test.ts`, run in a process of its own: everything that loads the
 * Vulkan driver (the WebGPU adapter probe, a WebGPU matmul, `auto`, which probes WebGPU).
 * Prints one JSON line. The test process itself never loads Vulkan: with Mesa's lavapipe
 * loaded, the test runner's exit (many threads ending while libraries run their finalisers)
 * aborted now and then with "corrupted size vs. prev_size" (core dump: main thread in
 * `_dl_fini` of the Mesa/LLVM stack, another thread freeing its malloc cache).
 *
 * @module
 */
import { tf } from "../deps/tfjs.ts";
import { selectBackend, webgpuAdapterInfo } from "../backend.ts";

const adapter = await webgpuAdapterInfo();
const lines: string[] = [];
const log = (l: string) => lines.push(l);
let webgpu: { matmul: number[]; lastLine: string } | null = null;
if (adapter !== null) {
  await selectBackend("webgpu", log);
  const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1], [1]]));
  webgpu = { matmul: Array.from(await y.data()), lastLine: lines.at(-1)! };
}
const auto = async (convolutional: boolean) => {
  lines.length = 0;
  const info = await selectBackend("auto", log, { convolutional });
  return { name: info.name, lines: [...lines] };
};
const result = { adapter, webgpu, autoConv: await auto(true), autoDense: await auto(false) };
console.log(JSON.stringify(result));
