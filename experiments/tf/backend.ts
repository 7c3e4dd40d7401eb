/**
 * Backend selection for every experiment: `--backend auto|webgpu|tensorflow|cpu`.
 *
 * - `tensorflow`: the native backend of `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`.
 *   These are optional and NOT dependencies of spanclust: they need a native libtensorflow
 *   that cannot be installed on our CPU-only machines. They are used only if the user has
 *   installed one into this project's `node_modules` (e.g.
 *   `deno install --allow-scripts npm:@tensorflow/tfjs-node-gpu@4.22.0`); we look them up
 *   there instead of importing an `npm:` specifier so a run never downloads anything.
 * - `webgpu`: Deno's built-in `navigator.gpu` (on CPU-only Linux through Mesa's lavapipe:
 *   `apt-get install -y mesa-vulkan-drivers libvulkan1`).
 * - `wasm`: tfjs's WebAssembly backend (XNNPACK, SIMD, one thread), with our fix for its slow
 *   transposed matmuls (`experiments/tf/wasm.ts`). The fastest backend here for dense networks
 *   (MLPs, autoencoders): 14–18× the cpu backend per train step (MLP batch 64: 0.010 vs
 *   0.145 s). It cannot train convolutions.
 * - `cpu`: tfjs's plain JavaScript backend, always available but slow.
 *
 * `auto` tries tensorflow, webgpu, wasm, cpu in that order (the first two are the only ones
 * that train convolutions at a usable speed) and prints what it chose and why. Presets of
 * MLP experiments name `wasm` explicitly.
 *
 * @module
 */
import { createRequire } from "node:module";
import { tf, WASM_BINARY_DIR } from "../deps/tf.ts";
import { patchWasmMatMul } from "./wasm.ts";

/** What `--backend` accepts. */
export const BACKEND_CHOICES = ["auto", "webgpu", "tensorflow", "wasm", "cpu"] as const;
/** A `--backend` value. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** The backend actually in use after {@link selectBackend}. */
export interface BackendInfo {
  readonly name: "tensorflow" | "webgpu" | "wasm" | "cpu";
  /** Human-readable description (adapter / package) printed at start. */
  readonly detail: string;
  /** Why other backends were skipped (empty when the requested one was available). */
  readonly skipped: readonly string[];
}

/** Packages that provide tfjs's native `tensorflow` backend, preferred first. */
export const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/** Result of probing one backend: ok with a description, or the reason it is unavailable. */
type Probe = { ok: true; detail: string } | { ok: false; why: string };

async function probeTensorflow(): Promise<Probe> {
  const require = createRequire(`file://${Deno.cwd()}/`);
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    let entry: string;
    try {
      entry = require.resolve(pkg);
    } catch {
      reasons.push(`${pkg} is not installed`);
      continue;
    }
    try {
      await import(`file://${entry}`);
      await tf.setBackend("tensorflow");
      await tf.ready();
      return { ok: true, detail: `tensorflow (${pkg}, ${entry})` };
    } catch (e) {
      reasons.push(`${pkg} failed to load: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return {
    ok: false,
    why: `tensorflow backend unavailable (${reasons.join("; ")}). It is optional and needs ` +
      `a native libtensorflow (not installable on CPU-only machines without one); install ` +
      `it with \`deno install --allow-scripts npm:@tensorflow/tfjs-node-gpu@4.22.0\` to use it`,
  };
}

/** Adapter description from `navigator.gpu`, or null when there is no adapter. */
export async function webgpuAdapterInfo(): Promise<string | null> {
  // The Vulkan loader wants a runtime dir; headless CI containers often lack one.
  if (Deno.env.get("XDG_RUNTIME_DIR") === undefined) Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (gpu === undefined) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null) return null;
  const i = adapter.info;
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s);
  const soft = i.isFallbackAdapter ? ", software rasteriser (e.g. Mesa lavapipe)" : "";
  return `${parts.join(" / ") || "unnamed adapter"}${soft}`;
}

async function probeWebgpu(): Promise<Probe> {
  let info: string | null;
  try {
    info = await webgpuAdapterInfo();
  } catch (e) {
    info = null;
    return { ok: false, why: `webgpu adapter request failed: ${String(e)}` };
  }
  if (info === null) {
    return {
      ok: false,
      why: "no WebGPU adapter (on Linux without a GPU: " +
        "`apt-get install -y mesa-vulkan-drivers libvulkan1`)",
    };
  }
  try {
    if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend returned false");
    await tf.ready();
    return { ok: true, detail: `webgpu (${info})` };
  } catch (e) {
    return { ok: false, why: `webgpu backend failed to initialise on ${info}: ${String(e)}` };
  }
}

async function probeWasm(): Promise<Probe> {
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend returned false");
    await tf.ready();
    patchWasmMatMul();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    return {
      ok: true,
      detail: `wasm (XNNPACK, ${simd ? "SIMD" : "no SIMD"}, ${
        threads ? "multi-threaded" : "one thread"
      }; fast transposed matmul; cannot train convolutions)`,
    };
  } catch (e) {
    return {
      ok: false,
      why: `wasm backend failed to initialise (binaries looked up in ${WASM_BINARY_DIR}): ${
        String(e)
      }`,
    };
  }
}

async function useCpu(): Promise<Probe> {
  await tf.setBackend("cpu");
  await tf.ready();
  return { ok: true, detail: "cpu (plain JavaScript, single thread)" };
}

/**
 * Selects and initialises a tfjs backend, then prints what it chose.
 *
 * @param choice `auto` (tensorflow, else webgpu, else wasm, else cpu) or one backend.
 * @param log Where to print (stderr by default); pass `() => {}` to silence.
 * @returns What is now in use.
 * @throws {Error} If an explicitly requested backend is unavailable (no silent fallback when
 *   the user named one).
 */
export async function selectBackend(
  choice: BackendChoice,
  log: (line: string) => void = (l) => console.error(l),
): Promise<BackendInfo> {
  const skipped: string[] = [];
  const order: ReadonlyArray<BackendInfo["name"]> = choice === "auto"
    ? ["tensorflow", "webgpu", "wasm", "cpu"]
    : [choice];
  for (const name of order) {
    const probe = name === "tensorflow"
      ? await probeTensorflow()
      : name === "webgpu"
      ? await probeWebgpu()
      : name === "wasm"
      ? await probeWasm()
      : await useCpu();
    if (probe.ok) {
      for (const s of skipped) log(`[backend] ${s}`);
      if ((name === "cpu" || name === "wasm") && choice === "auto") {
        log(
          `[backend] WARNING: falling back to the ${name} backend; convolutional training ` +
            (name === "wasm"
              ? "is not possible on it (dense networks train fast)"
              : "steps are many times slower than on webgpu or tensorflow"),
        );
      } else if (name === "cpu") {
        log(
          "[backend] cpu requested: plain JavaScript; wasm is 14–18× faster for MLPs, webgpu " +
            "for convolutions",
        );
      } else if (name === "wasm") {
        log("[backend] wasm requested: fastest here for MLPs; cannot train convolutions");
      }
      log(`[backend] using ${probe.detail}`);
      return { name, detail: probe.detail, skipped };
    }
    if (choice !== "auto") {
      throw new Error(`Requested --backend ${choice} is unavailable: ${probe.why}`);
    }
    skipped.push(probe.why);
  }
  // Unreachable: cpu always succeeds.
  throw new Error("No tfjs backend could be initialised");
}
