/**
 * `deno task measure:loss`: the cost of the clustering loss alone in one training step, dense
 * (`clusterLossGrads`: n × n Σ in tfjs, read back, perturbed forests on n × n) against the kNN
 * graph (`clusterLossGradsOnGraph`: embeddings read back, kNN graph, perturbed forests on its
 * edges, ∂ℓ/∂V on the CPU) — without a network: the embeddings are a variable V (n × d), so the
 * figure is what the loss adds to a step (forward of Σ, loss, backward to V).
 *
 *     deno task measure:loss                          # dense 64, dense 1024, graph 1024; d = 256
 *     deno task measure:loss --backend cpu --reps 5
 *
 * Embeddings: `--classes` Gaussian clusters (unit spread, centres 3 apart on orthogonal axes),
 * labels = the cluster, like a trained network's; `--scattered` labels them at random instead,
 * like an untrained one's (the graph then needs many class joins). Each case runs one untimed
 * step, then `--reps` timed ones; prints the median and the graph's breakdown. On a shared
 * machine compare only figures from one run.
 *
 * @module
 */
import { tf } from "../../tf/deps/tfjs.ts";
import { type Command, type ConfigOf, flag, parseOrExit, runMain } from "../cli/flags.ts";
import { selectBackend } from "../../tf/backend.ts";
import { clusterLossGrads } from "../../tf/cluster_loss.ts";
import { clusterLossGradsOnGraph } from "../../tf/graph_cluster_loss.ts";
import { fillStandardNormal, streamFor, uniformOpen01 } from "../../lib/core/random.ts";

/** Flags of `measure:loss`. */
export const measureLossFlags = {
  backend: flag.choice(["wasm", "cpu"] as const, "tfjs backend", "wasm"),
  dim: flag.int("Embedding dimension d", 256, 1),
  samples: flag.int("Monte-Carlo samples", 100, 1),
  neighbours: flag.int("Neighbours per point of the graph loss", 15, 1),
  classes: flag.int("Clusters (and labels) of the embeddings; k of the loss", 10, 1),
  denseSizes: flag.intList("Batch sizes of the dense loss", [64, 1024], 2),
  graphSizes: flag.intList("Batch sizes of the graph loss", [1024], 2),
  reps: flag.int("Timed steps per case (after one untimed)", 3, 1),
  scattered: flag.bool("Label the points at random (an untrained network's embeddings)"),
} as const;

/** `measure:loss`. */
export const measureLossCommand: Command<typeof measureLossFlags> = {
  name: "measure:loss",
  summary: "Time the clustering loss of one training step: dense against the kNN graph.",
  flags: measureLossFlags,
  checks: [
    (c) => {
      for (
        const [name, sizes] of [["dense-sizes", c.denseSizes!], ["graph-sizes", c.graphSizes!]]
      ) {
        const small = (sizes as readonly number[]).find((n) => n < c.classes!);
        if (small !== undefined) {
          return `--${name} ${small} is below --classes ${c.classes}: k clusters need k points`;
        }
      }
      return null;
    },
    (c) => {
      const small = c.graphSizes!.find((n) => n <= c.neighbours!);
      return small !== undefined
        ? `--graph-sizes ${small} is not above --neighbours ${c.neighbours}: a point of a ` +
          `batch has at most ${small - 1} neighbours`
        : null;
    },
  ],
};

type Config = ConfigOf<typeof measureLossFlags>;

/** n clustered points in R^d and their labels (module doc). */
export function clusteredEmbeddings(
  n: number,
  d: number,
  classes: number,
  scattered: boolean,
  seed = 0,
): { data: Float32Array; labels: number[] } {
  const z = fillStandardNormal(streamFor(seed), new Float64Array(n * d));
  const labels = Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++) z[i * d + (labels[i] % d)] += 3;
  if (scattered) {
    const rng = streamFor(seed, 1);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(uniformOpen01(rng) * (i + 1));
      [labels[i], labels[j]] = [labels[j], labels[i]];
    }
  }
  return { data: Float32Array.from(z), labels };
}

/** One case's timings in seconds (NaN, with `error`, when the case failed). */
export interface LossTiming {
  readonly loss: "dense" | "graph";
  readonly n: number;
  /** Why the case could not run (e.g. the wasm heap cannot hold the dense n × n × d tensors). */
  readonly error?: string;
  /** Median wall time of a step's loss (forward of Σ or read, loss, backward to V). */
  readonly median: number;
  /** Median of the CPU part (read-back and loss; for the graph, graph build included). */
  readonly cpu: number;
  /** Median of the graph build (graph loss only). */
  readonly graph: number | null;
  /** Edges of the last graph (graph loss only). */
  readonly edges: number | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeCase(loss: "dense" | "graph", n: number, cfg: Config): Promise<LossTiming> {
  const d = cfg.dim!, { data, labels } = clusteredEmbeddings(n, d, cfg.classes!, cfg.scattered!);
  const v = tf.variable(tf.tensor2d(data, [n, d]));
  const opts = { k: cfg.classes!, epsilon: 0.1, samples: cfg.samples!, noise: "gaussian" } as const;
  const dense = clusterLossGrads(opts);
  const graph = clusterLossGradsOnGraph({ ...opts, neighbours: cfg.neighbours! });
  const embed = () => tf.mul(v, 1) as tf.Tensor2D;
  const walls: number[] = [], cpus: number[] = [], graphs: number[] = [];
  let edges: number | null = null;
  try {
    for (let r = 0; r <= cfg.reps!; r++) {
      const t0 = performance.now();
      let cpu: number;
      if (loss === "dense") {
        const s = await dense(embed, labels, r, [v]);
        await s.grads[v.name].data();
        tf.dispose(Object.values(s.grads));
        cpu = s.lossSeconds;
      } else {
        const s = await graph(embed, labels, r, [v]);
        await s.grads[v.name].data();
        tf.dispose(Object.values(s.grads));
        cpu = s.lossSeconds;
        graphs.push(s.graphSeconds);
        edges = s.graph.from.length;
      }
      if (r === 0) {
        graphs.length = 0; // the untimed step
        continue;
      }
      walls.push((performance.now() - t0) / 1000);
      cpus.push(cpu);
    }
  } finally {
    v.dispose();
  }
  return {
    loss,
    n,
    median: median(walls),
    cpu: median(cpus),
    graph: loss === "graph" ? median(graphs) : null,
    edges,
  };
}

/**
 * Runs `measure:loss` and prints a markdown table.
 *
 * @param argv Command-line arguments.
 * @returns The timings.
 */
export async function main(argv: readonly string[]): Promise<LossTiming[]> {
  const cfg = parseOrExit(measureLossCommand, argv);
  const backend = await selectBackend(cfg.backend!);
  const cases = [
    ...cfg.denseSizes!.map((n) => ["dense", n] as const),
    ...cfg.graphSizes!.map((n) => ["graph", n] as const),
  ];
  const out: LossTiming[] = [];
  console.log(
    `clustering loss of one step, d = ${cfg.dim}, ${cfg.samples} samples, k = ${cfg.classes}, ` +
      `${cfg.scattered ? "labels at random" : "labels = clusters"}, ${backend.name}; ` +
      `median of ${cfg.reps}`,
  );
  console.log("| loss | n | s/step | CPU part s | graph build s | edges |");
  console.log("|---|---|---|---|---|---|");
  for (const [loss, n] of cases) {
    let r: LossTiming;
    try {
      r = await timeCase(loss, n, cfg);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      out.push({ loss, n, error, median: NaN, cpu: NaN, graph: null, edges: null });
      console.log(`| ${loss} | ${n} | failed: ${error} | | | |`);
      continue;
    }
    out.push(r);
    console.log(
      `| ${loss}${loss === "graph" ? ` (${cfg.neighbours}-NN)` : ""} | ${n} | ` +
        `${r.median.toFixed(3)} | ${r.cpu.toFixed(3)} | ${r.graph?.toFixed(3) ?? "–"} | ` +
        `${r.edges ?? n * (n - 1) / 2} |`,
    );
  }
  return out;
}

if (import.meta.main) await runMain(() => main(Deno.args));
