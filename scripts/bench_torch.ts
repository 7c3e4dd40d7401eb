/**
 * `deno task bench:torch`: spanclust's train step on the wasm backend (OpenBLAS when present)
 * beside PyTorch CPU on the same machine in the same run, network by network: the paper LeNet,
 * the small CNN, the MLP and the OT k-means autoencoder (python/bench_torch.py mirrors
 * experiments/models.ts layer for layer; the parameter counts are checked equal).
 *
 * Each side reports the better of one thread and all cores (OpenBLAS threads for ours,
 * `torch.set_num_threads` for PyTorch). The two sides alternate `--rounds` times per network
 * and each side's median over rounds is reported, so load that drifts during the run hits
 * both. An optional cross-check: needs Debian's python3-torch (`/usr/bin/python3`), and says so
 * and exits 0 when it is absent.
 *
 * @module
 */
import { type Command, flag, parseOrExit } from "../experiments/cli/flags.ts";
import { selectBackend } from "../tf/backend.ts";
import {
  batchOf,
  buildMeasured,
  type Defined,
  MEASURED_MODELS,
  timeTrainStep,
} from "../experiments/measure/step.ts";
import { loadNativeBlas } from "../tf/native_blas.ts";

const benchTorchFlags = {
  models: flag.choiceList(
    MEASURED_MODELS.filter((m) => m !== "resnet"),
    "Networks to compare",
    ["paper-lenet", "small-cnn", "mlp", "otk-autoencoder"],
  ),
  rounds: flag.int("Alternations of the two sides per network", 3, 1),
  steps: flag.int("Timed steps per round and thread count (median)", 10, 1),
  python: flag.string("Python with PyTorch", "/usr/bin/python3"),
} as const;

const benchTorchCommand: Command<typeof benchTorchFlags> = {
  name: "bench:torch",
  summary: "Train-step time on wasm (+OpenBLAS) beside PyTorch CPU, same machine, same run.",
  flags: benchTorchFlags,
};

interface TorchRow {
  readonly model: string;
  readonly params: number;
  readonly threads: number;
  readonly median_s: number;
}

async function torchTimes(python: string, model: string, steps: number): Promise<TorchRow[]> {
  const out = await new Deno.Command(python, {
    args: [
      new URL("../python/bench_torch.py", import.meta.url).pathname,
      "--models",
      model,
      "--steps",
      String(steps),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(new TextDecoder().decode(out.stderr).trim().split("\n").at(-1));
  }
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (import.meta.main) {
  const cfg = parseOrExit(benchTorchCommand, Deno.args) as Defined<typeof benchTorchFlags>;
  const probe = await new Deno.Command(cfg.python, { args: ["-c", "import torch"] }).output()
    .catch(() => null);
  if (probe === null || probe.code !== 0) {
    console.log(
      `bench:torch: skipped: ${cfg.python} cannot import torch ` +
        "(apt-get install -y python3-torch)",
    );
    Deno.exit(0);
  }
  const info = await selectBackend("wasm", () => {});
  const blas = loadNativeBlas();
  const cores = navigator.hardwareConcurrency;
  const threadCounts = blas.ok ? [...new Set([1, cores])] : [null];
  console.error(`[bench:torch] ours: ${info.detail}; ${cores} cores`);
  console.log(
    "| network | params | batch | spanclust wasm (s/step) | PyTorch CPU (s/step) | ratio |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const name of cfg.models) {
    const ours: number[] = [], theirs: number[] = [];
    let params = 0, torchParams = 0;
    for (let round = 0; round < cfg.rounds; round++) {
      let best = Infinity;
      for (const t of threadCounts) {
        if (t !== null && blas.ok) blas.blas.setThreads(t);
        const model = buildMeasured(name);
        const r = await timeTrainStep(model, batchOf(name, 64), cfg.steps, 2);
        model.dispose();
        params = r.params;
        best = Math.min(best, r.median!);
      }
      ours.push(best);
      const rows = await torchTimes(cfg.python, name, cfg.steps);
      torchParams = rows[0]!.params;
      theirs.push(Math.min(...rows.map((r) => r.median_s)));
    }
    if (params !== torchParams) {
      console.error(`error: ${name}: ${params} parameters here, ${torchParams} in PyTorch`);
      Deno.exit(1);
    }
    const a = median(ours), b = median(theirs);
    console.log(
      `| ${name} | ${params} | ${batchOf(name, 64)} | ${a.toFixed(4)} | ${b.toFixed(4)} | ${
        (a / b).toFixed(2)
      }× |`,
    );
  }
}
