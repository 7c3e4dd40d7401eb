/**
 * `deno task gpu:check`: what the GPU path really runs on, and where a training step's time
 * goes. Records the WebGPU adapter (vendor and device ids, name, `isFallbackAdapter`; NVIDIA is
 * vendor 0x10de, Mesa's lavapipe 0x10005), then times the paper LeNet's clustering step (batch
 * 64, the partial Fenchel–Young loss with 100 samples at ε = 0.1, k = 10, Adam) by phase, on
 * each backend asked for:
 *
 * - **forward**: the embeddings V = f_θ(X) on the device, read back (`await v.data()`);
 * - **Σ + loss**: Σ(V) on the device, read back, and the perturbed loss and its gradient on the
 *   CPU (`clusterLoss`, the two-pass path of tf/cluster_loss.ts); of which **CPU loss** is the
 *   loss alone, timed again on the same Σ;
 * - **backward + Adam**: the surrogate's gradients through the network and the update, waited
 *   for by reading one weight.
 *
 * The step is the sum (the engine's webgpu step is this same two-pass sequence). Every phase
 * is the median of `--steps` steps after `--warmup` untimed ones; inputs are uniform noise
 * with random labels (the time of these kernels does not depend on the pixel values).
 *
 *     deno task gpu:check --backends webgpu,wasm --steps 50 --out results/gpu-check.json
 *
 * On a machine without the GPU's own Vulkan driver the adapter is a software one and the
 * figures are CPU figures; the report says so first. `python/bench_torch.py --device cuda`
 * times PyTorch's network step beside it; `scripts/gpu_check.sh` runs both on a lent GPU
 * machine from one carried bundle (docs/backends.md).
 *
 * @module
 */
import { tf } from "../tf/deps/tfjs.ts";
import { type Command, flag, parseOrExit, runMain } from "../experiments/cli/flags.ts";
import { requestWebgpuAdapterInfo, selectBackend } from "../tf/backend.ts";
import { clusterLoss } from "../tf/cluster_loss.ts";
import { partialFyLoss } from "../lib/losses/fy_loss.ts";
import { constraintsFromLabels } from "../lib/constrained/constrained_forest.ts";
import { buildModel } from "../experiments/models.ts";
import { writeJsonAtomic } from "../experiments/io.ts";

const BACKENDS = ["webgpu", "wasm", "cpu"] as const;

const gpuCheckFlags = {
  backends: flag.choiceList(BACKENDS, "Backends to time", ["webgpu", "wasm"]),
  steps: flag.int("Timed steps per backend (median of each phase)", 50, 1),
  warmup: flag.int("Untimed steps first", 3, 1),
  samples: flag.int("Monte-Carlo samples of the loss", 100, 1),
  out: flag.string("JSON report (written atomically; default: none)", undefined),
} as const;

const gpuCheckCommand: Command<typeof gpuCheckFlags> = {
  name: "gpu:check",
  summary: "The WebGPU adapter, and the paper LeNet's clustering step timed by phase.",
  flags: gpuCheckFlags,
};

/** The WebGPU adapter as the runtime reports it, with the vendor id in hex. */
export interface AdapterReport {
  readonly vendor: string;
  readonly vendorHex: string | null;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  /** NVIDIA's vendor id (0x10de). */
  readonly nvidia: boolean;
}

/**
 * Reads the high-performance WebGPU adapter.
 *
 * @returns Its report, or a line saying why there is none.
 */
export async function readAdapter(): Promise<AdapterReport | string> {
  const i = await requestWebgpuAdapterInfo();
  if (typeof i === "string") return i;
  const id = /^\d+$/.test(i.vendor)
    ? Number(i.vendor)
    : /^0x[0-9a-f]+$/i.test(i.vendor)
    ? Number.parseInt(i.vendor, 16)
    : null;
  return {
    vendor: i.vendor,
    vendorHex: id === null ? null : `0x${id.toString(16)}`,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isFallbackAdapter: i.isFallbackAdapter,
    nvidia: id === 0x10de || /nvidia/i.test(`${i.vendor} ${i.description}`),
  };
}

/** Median seconds of each phase of one backend's step. */
export interface PhaseTimes {
  readonly backend: string;
  readonly detail: string;
  readonly steps: number;
  readonly forward: number;
  readonly sigmaAndLoss: number;
  readonly cpuLoss: number;
  readonly backwardAdam: number;
  readonly step: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Times the clustering step of the paper LeNet by phase on the current backend. */
async function timePhases(steps: number, warmup: number, samples: number) {
  const batch = 64, k = 10;
  const model = buildModel("paper-lenet", { seed: 0 });
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 1);
  const labels = Array.from({ length: batch }, (_, i) => (i * 7 + 3) % k);
  const opts = { k, epsilon: 0.1, samples, noise: "gaussian" as const };
  const prepare = clusterLoss(opts);
  const cpuLoss = partialFyLoss(opts);
  const constraints = constraintsFromLabels(labels);
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const times = {
    forward: [] as number[],
    sigma: [] as number[],
    cpu: [] as number[],
    back: [] as number[],
  };
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const t0 = performance.now();
      const v = tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor2D);
      await v.data();
      const t1 = performance.now();
      const prepared = await prepare(v, labels, s);
      v.dispose();
      const t2 = performance.now();
      cpuLoss(prepared.sigma, constraints, s);
      const t3 = performance.now();
      const { grads, value } = tf.variableGrads(
        () => prepared.op(model.apply(x, { training: true }) as tf.Tensor2D),
        vars,
      );
      optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      tf.dispose([value, ...Object.values(grads)]);
      const probe = tf.tidy(() => vars[0]!.sum());
      await probe.data();
      probe.dispose();
      const t4 = performance.now();
      if (s >= warmup) {
        times.forward.push((t1 - t0) / 1000);
        times.sigma.push((t2 - t1) / 1000);
        times.cpu.push((t3 - t2) / 1000);
        times.back.push((t4 - t3) / 1000);
      }
    }
  } finally {
    x.dispose();
    optimizer.dispose();
    model.dispose();
  }
  const forward = median(times.forward), sigmaAndLoss = median(times.sigma);
  const backwardAdam = median(times.back);
  return {
    forward,
    sigmaAndLoss,
    cpuLoss: median(times.cpu),
    backwardAdam,
    step: forward + sigmaAndLoss + backwardAdam,
  };
}

/**
 * Runs the check.
 *
 * @param argv Command-line arguments.
 * @returns The adapter and the phase times per backend.
 */
export async function main(argv: readonly string[]) {
  const cfg = parseOrExit(gpuCheckCommand, argv);
  const adapter = await readAdapter();
  if (typeof adapter === "string") {
    console.log(`WebGPU adapter: none: ${adapter}`);
  } else {
    console.log(
      `WebGPU adapter: vendor ${adapter.vendor} (${adapter.vendorHex ?? "?"}), device ` +
        `${adapter.device}, "${adapter.description}", isFallbackAdapter ${adapter.isFallbackAdapter}`,
    );
    console.log(
      adapter.nvidia && !adapter.isFallbackAdapter
        ? "  the NVIDIA GPU itself: webgpu figures below are GPU figures"
        : "  not an NVIDIA hardware adapter: webgpu figures below are not GPU figures",
    );
  }
  const results: PhaseTimes[] = [];
  for (const name of cfg.backends!) {
    if (name === "webgpu" && typeof adapter === "string") {
      console.log("webgpu: skipped (no adapter)");
      continue;
    }
    const b = await selectBackend(name, () => {}, { convolutional: true });
    const t = await timePhases(cfg.steps!, cfg.warmup!, cfg.samples!);
    const r = { backend: b.name, detail: b.detail, steps: cfg.steps!, ...t };
    results.push(r);
    const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
    console.log(
      `${r.backend}: step ${ms(r.step)} = forward ${ms(r.forward)} + Σ and loss ` +
        `${ms(r.sigmaAndLoss)} (CPU loss alone ${ms(r.cpuLoss)}) + backward and Adam ` +
        `${ms(r.backwardAdam)}; median of ${r.steps} steps (${r.detail})`,
    );
  }
  const report = {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    adapter,
    model: "paper-lenet",
    batch: 64,
    samples: cfg.samples,
    results,
  };
  if (cfg.out !== undefined) await writeJsonAtomic(cfg.out, report);
  return report;
}

if (import.meta.main) await runMain(() => main(Deno.args));
