/**
 * Backend selection for every experiment: `--backend auto|webgpu|tensorflow|wasm|cpu`.
 *
 * - `tensorflow`: the native backend of `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`.
 *   These are optional and NOT dependencies of spanclust: they need a native libtensorflow
 *   that cannot be installed on our CPU-only machines. They are used only if the user has
 *   installed one into this project's `node_modules` (e.g.
 *   `deno install --allow-scripts npm:@tensorflow/tfjs-node-gpu@4.22.0`); we look them up
 *   there instead of importing an `npm:` specifier so a run never downloads anything.
 * - `webgpu`: Deno's built-in `navigator.gpu` (on CPU-only Linux through Mesa's lavapipe:
 *   `apt-get install -y mesa-vulkan-drivers libvulkan1`).
 * - `wasm`: tfjs's WebAssembly backend with our kernels (`tf/_wasm_kernels.ts`): every
 *   matrix product and convolution, forward and backward, runs in native OpenBLAS through FFI
 *   on all cores when `libopenblas0-pthread` is installed and FFI is allowed, else in the wasm
 *   module's XNNPACK (one thread). The fastest backend on CPU-only machines for every network
 *   here (docs/backends.md).
 * - `cpu`: tfjs's plain JavaScript backend, always available but slow.
 *
 * `auto` tries tensorflow, then webgpu (only on a hardware adapter and only for convolutional
 * networks: on a software adapter such as Mesa's lavapipe, and for dense networks, wasm is
 * faster), then wasm, then cpu, and prints what it chose and why.
 *
 * @module
 */
import { createRequire } from "node:module";
import { tf, WASM_BINARY_DIR } from "./deps/tfjs.ts";
import { installWasmKernels, type WasmGemmChoice } from "./_wasm_kernels.ts";

/**
 * What `--backend` accepts.
 *
 * @category Backends
 */
export const BACKEND_CHOICES = ["auto", "webgpu", "tensorflow", "wasm", "cpu"] as const;
/**
 * A `--backend` value.
 *
 * @category Backends
 */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/**
 * The backend actually in use after {@link selectBackend}.
 *
 * @category Backends
 */
export interface BackendInfo {
  /** The backend tfjs now runs on. */
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
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch (e) {
    // No read permission: the project's node_modules cannot be searched, so there is no native
    // backend to find (the wasm and cpu backends need none).
    return { ok: false, why: `tensorflow backend not looked for: ${errorLine(e)}` };
  }
  const require = createRequire(`file://${cwd}/`);
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

/**
 * The high-performance WebGPU adapter's info, or a line saying why there is none.
 *
 * @returns `adapter.info`, or the reason no adapter was found.
 */
export async function requestWebgpuAdapterInfo(): Promise<GPUAdapterInfo | string> {
  // The Vulkan loader wants a runtime dir; headless CI containers often lack one. Without env
  // permission the variable is left as it is: a run needs no permission it did not ask for.
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR") === undefined) Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied)) {
      throw e;
    }
  }
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (gpu === undefined) return "navigator.gpu is undefined (WebGPU not available)";
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null) return "requestAdapter() returned null (no Vulkan driver found)";
  return adapter.info;
}

/** Adapter description from `navigator.gpu`, or null when there is no adapter. */
export async function webgpuAdapterInfo(): Promise<string | null> {
  const i = await requestWebgpuAdapterInfo();
  if (typeof i === "string") return null;
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s) => s);
  const soft = i.isFallbackAdapter ? ", software rasteriser (e.g. Mesa lavapipe)" : "";
  return `${parts.join(" / ") || "unnamed adapter"}${soft}`;
}

async function probeWebgpu(auto: boolean, convolutional: boolean): Promise<Probe> {
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
  if (auto && /software rasteriser/.test(info)) {
    return {
      ok: false,
      why: `webgpu skipped: ${info} computes on the CPU, where wasm is faster for every ` +
        "network here (pass --backend webgpu to use it anyway)",
    };
  }
  if (auto && !convolutional) {
    return {
      ok: false,
      why: "webgpu skipped for a dense network: per-kernel overhead dominates there, wasm is " +
        "faster (pass --backend webgpu to use it anyway)",
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

async function probeWasm(gemm: WasmGemmChoice): Promise<Probe> {
  try {
    const kernels = installWasmKernels(gemm);
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend returned false");
    await tf.ready();
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    return {
      ok: true,
      detail: `wasm (${simd ? "SIMD" : "no SIMD"}, ${
        threads ? "multi-threaded" : "one thread"
      }; ${kernels.detail})`,
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

/** The first line of an error's message. */
function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}

async function useCpu(): Promise<Probe> {
  await tf.setBackend("cpu");
  await tf.ready();
  return { ok: true, detail: "cpu (plain JavaScript, single thread)" };
}

/**
 * Options of {@link selectBackend}.
 *
 * @category Backends
 */
export interface SelectBackendOptions {
  /**
   * Whether the network to train has convolutions (default true). With `auto`, a dense network
   * is never put on webgpu (wasm is faster for it).
   */
  readonly convolutional?: boolean;
  /** The wasm kernels' GEMM engine (default `auto`: OpenBLAS when it loads, else XNNPACK). */
  readonly wasmGemm?: WasmGemmChoice;
}

/**
 * Selects and initialises a tfjs backend, then prints what it chose.
 *
 * @param choice `auto` (tensorflow, else webgpu on a hardware adapter for a convolutional
 *   network, else wasm, else cpu) or one backend.
 * @param log Where to print (stderr by default); pass `() => {}` to silence.
 * @param opts The network's kind and the wasm GEMM engine.
 * @returns What is now in use.
 * @throws {Error} If an explicitly requested backend is unavailable (no silent fallback when
 *   the user named one).
 *
 * @category Backends
 */
export async function selectBackend(
  choice: BackendChoice,
  log: (line: string) => void = (l) => console.error(l),
  opts: SelectBackendOptions = {},
): Promise<BackendInfo> {
  const auto = choice === "auto", convolutional = opts.convolutional ?? true;
  const skipped: string[] = [];
  const order: ReadonlyArray<BackendInfo["name"]> = auto
    ? ["tensorflow", "webgpu", "wasm", "cpu"]
    : [choice];
  for (const name of order) {
    const probe = name === "tensorflow"
      ? await probeTensorflow()
      : name === "webgpu"
      ? await probeWebgpu(auto, convolutional)
      : name === "wasm"
      ? await probeWasm(opts.wasmGemm ?? "auto")
      : await useCpu();
    if (probe.ok) {
      for (const s of skipped) log(`[backend] ${s}`);
      if (name === "cpu") {
        log(
          `[backend] ${auto ? "WARNING: falling back to" : "requested"} the cpu backend: ` +
            "plain JavaScript, many times slower than wasm",
        );
      } else if (name === "wasm" && /XNNPACK/.test(probe.detail)) {
        log(
          "[backend] wasm without OpenBLAS: products run in one wasm thread, several times " +
            "slower (install libopenblas0-pthread and allow FFI)",
        );
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
