/**
 * `deno task transductive`: whole-data-set clustering and transductive labelling of MNIST
 * features with the sparse-graph API, next to scikit-learn's label spreading on the same
 * features and the same labels.
 *
 * Features: either a trained run's saved test embeddings (`--embeddings <exp:mnist run dir>`,
 * the files exp:mnist's data-set-level evaluation writes), or pixels / 255 projected to 64-d by
 * a seeded Gaussian random projection (a stand-in for a trained embedding; distances are
 * preserved up to ≈ 1/√64) of the 10 000 test images, or with `--all` of all 70 000 images.
 *
 * The evaluation is `experiments/dataset_eval.ts`, the one exp:mnist runs: the 15-NN graph
 * (exact up to 20 000 points, NN-descent beyond), single linkage, HDBSCAN's mutual
 * reachability (minSamples 10) and single linkage with a minimum cluster size (`--min-size`,
 * default ⌈n / (4k)⌉) at k = number of classes with ACC / NMI / ARI, and
 * `propagateLabels` from a seeded `--fraction` of the labels (default 1 %, seed 15), accuracy on
 * the rest — next to scikit-learn's `LabelSpreading(kernel="knn", n_neighbors=15)` given the
 * same labels (Debian python3-sklearn via /usr/bin/python3; skipped with a message when
 * absent). With `--embeddings` and the defaults, our figures must equal the run's summary.json
 * `datasetLevel` (same points, same draw); the script says whether they do.
 *
 *     deno task transductive [--embeddings results/mnist-quick-seed0] [--all] [--fraction 0.01]
 *       [--min-size 250] [--calibrate]
 *
 * With `--calibrate` (and `--embeddings`), a clustering is fitted on the run's training
 * embeddings (`fitClusters`, minimum-size cut), the test split assigned (`assignPoints`), and
 * the membership probabilities (`clusterMembership`) calibrated, ε chosen on the validation
 * half: `experiments/fitted_calibration.ts`.
 *
 * Prints a table and writes results/transductive/<time>.json (a new file per run; `--out`).
 *
 * @module
 */
import { loadMnist } from "../experiments/data/idx.ts";
import { standardNormal, streamFor } from "../lib/core/random.ts";
import { type Command, flag, parseOrExit, runMain } from "../experiments/cli/flags.ts";
import {
  EMBEDDINGS_FILES,
  readEmbeddings,
  type SavedEmbeddings,
} from "../experiments/embeddings_file.ts";
import {
  DATASET_EVAL_DEFAULTS,
  type DatasetEvaluation,
  drawLabelled,
  evaluateDataset,
  formatDatasetEvaluation,
  transductiveAccuracy,
} from "../experiments/dataset_eval.ts";
import { writeJsonAtomic } from "../experiments/io.ts";
import {
  calibrateFittedClusters,
  type FittedCalibration,
} from "../experiments/fitted_calibration.ts";
import { nativeNeighbourGemm } from "../experiments/native_gemm.ts";

/** Flags of `transductive` (`scripts/transductive_mnist.ts`). */
export const transductiveFlags = {
  embeddings: flag.string(
    "An exp:mnist run directory: use its saved test embeddings (test_embeddings.npy) instead of a random projection of the pixels",
    undefined,
  ),
  all: flag.bool(
    "Random projection of all 70 000 MNIST images (train + test, NN-descent graph) instead of the 10 000 test images",
  ),
  fraction: flag.positive(
    "Fraction of the labels given to the transductive labelling, in (0, 1)",
    DATASET_EVAL_DEFAULTS.labelledFraction,
  ),
  seed: flag.int(
    "Seed of the labelled draw (exp:mnist's data-set-level evaluation uses the default)",
    DATASET_EVAL_DEFAULTS.seed,
    0,
    2 ** 31 - 1,
  ),
  minSize: flag.int(
    "Minimum cluster size of the single-linkage cut that refuses smaller splits (default ⌈n / (4k)⌉, as exp:mnist)",
    undefined,
    1,
  ),
  calibrate: flag.bool(
    "With --embeddings: fit the minimum-size cut (--min-size, default ⌈n / (4k)⌉ of the training images used) on the run's training embeddings, assign the test split, and calibrate the membership probabilities (ε chosen on the validation half)",
  ),
  calibrationTrain: flag.int(
    "Training images the calibration fits on (the first ones; 0: all)",
    10_000,
    0,
  ),
  calibrationPoints: flag.int(
    "Images of each test half whose membership probabilities are estimated",
    1000,
    10,
  ),
  calibrationSamples: flag.int("Monte-Carlo samples per membership estimate", 32, 2),
  out: flag.string("Results file (JSON)", undefined),
} as const;

/** `transductive`: data-set-level clustering and label spreading, ours next to scikit-learn's. */
export const transductiveCommand: Command<typeof transductiveFlags> = {
  name: "transductive",
  summary: "Whole-data-set clustering and transductive labelling of MNIST features (a random " +
    "projection of the pixels, or a trained run's embeddings), next to scikit-learn's " +
    "LabelSpreading.",
  flags: transductiveFlags,
  outDefault: "results/transductive/<time>.json",
  checks: [
    (c) =>
      c.fraction! >= 1
        ? `--fraction ${c.fraction} is not below 1: some labels must be left to predict`
        : null,
    (c) =>
      c.calibrate && c.embeddings === undefined
        ? `--calibrate needs --embeddings <exp:mnist run dir> (its training and test embeddings)`
        : null,
    (c) =>
      c.all && c.embeddings !== undefined
        ? `--all and --embeddings ${c.embeddings} exclude each other: a run's embeddings are of ` +
          `the test split only`
        : null,
  ],
};

/** Features to evaluate: n × d rows, their labels, and what they are. */
export interface Features {
  readonly x: Float64Array;
  readonly n: number;
  readonly d: number;
  readonly labels: ArrayLike<number>;
  readonly classes: number;
  readonly description: string;
}

/** scikit-learn's result, or why it did not run. */
export type SklearnOutcome =
  | { readonly _tag: "Ran"; readonly predicted: readonly number[]; readonly seconds: number }
  | { readonly _tag: "Skipped"; readonly why: string };

/** What the script writes (and returns). */
export interface TransductiveReport {
  readonly features: string;
  readonly datasetLevel: DatasetEvaluation;
  readonly labelSpreading:
    | { readonly accuracy: number; readonly seconds: number }
    | { readonly skipped: string };
  /** With `--embeddings`: the run's own figures and whether ours equal them. */
  readonly run?: {
    readonly dir: string;
    readonly step: number;
    readonly summaryAccuracy: number | null;
    readonly matchesSummary: boolean | null;
  };
  /** With `--calibrate`: the fitted clustering on the training split, applied to the test split. */
  readonly calibration?: FittedCalibration;
}

/** Pixels / 255 of MNIST (test, or train + test) through a seeded 64-d random projection. */
async function projectedPixels(all: boolean): Promise<Features> {
  const D = 64;
  const mnist = await loadMnist();
  const sets = all ? [mnist.train, mnist.test] : [mnist.test];
  const n = sets.reduce((s, x) => s + x.n, 0), pixels = mnist.test.rows * mnist.test.cols;
  const labels = new Int32Array(n);
  const x = new Float64Array(n * D);
  const rng = streamFor(14), proj = new Float64Array(pixels * D);
  for (let t = 0; t < proj.length; t++) proj[t] = standardNormal(rng) / Math.sqrt(D);
  let i = 0;
  for (const s of sets) {
    for (let r = 0; r < s.n; r++, i++) {
      labels[i] = s.labels[r]!;
      const row = x.subarray(i * D, i * D + D);
      for (let p = 0; p < pixels; p++) {
        const v = s.images[r * pixels + p]!;
        if (v === 0) continue;
        const w = v / 255, base = p * D;
        for (let t = 0; t < D; t++) row[t]! += w * proj[base + t]!;
      }
    }
  }
  return {
    x,
    n,
    d: D,
    labels,
    classes: 10,
    description: `MNIST ${all ? "train + test" : "test"} pixels, random projection to ${D}-d`,
  };
}

const SKLEARN = `
import json, sys, time
import numpy as np
try:
    from sklearn.semi_supervised import LabelSpreading
except ImportError:
    print(json.dumps({"skipped": "scikit-learn is not installed (Debian: apt install python3-sklearn)"})); sys.exit(0)
n = int(sys.argv[1]); d = int(sys.argv[2]); k = int(sys.argv[3])
raw = sys.stdin.buffer.read()
x = np.frombuffer(raw[:8 * n * d], dtype="<f8").reshape(n, d)
y = np.frombuffer(raw[8 * n * d:], dtype="<i4")
t = time.perf_counter(); m = LabelSpreading(kernel="knn", n_neighbors=k, max_iter=100).fit(x, y)
print(json.dumps({"seconds": time.perf_counter() - t, "pred": m.transduction_.astype(int).tolist()}))
`;

/**
 * scikit-learn's `LabelSpreading(kernel="knn", n_neighbors)` on the same features and given
 * labels, in /usr/bin/python3 (the data go through its stdin: no temporary files).
 *
 * @param x Row-major n × d features.
 * @param n Points.
 * @param d Dimension.
 * @param given Given labels, −1 = unlabelled (scikit-learn's convention too).
 * @param neighbours `n_neighbors`.
 * @returns The predicted labels and scikit-learn's time, or why it was skipped.
 */
export async function sklearnLabelSpreading(
  x: Float64Array,
  n: number,
  d: number,
  given: Int32Array,
  neighbours: number,
): Promise<SklearnOutcome> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/usr/bin/python3", {
      args: ["-c", SKLEARN, String(n), String(d), String(neighbours)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { _tag: "Skipped", why: `/usr/bin/python3 unavailable: ${(e as Error).message}` };
  }
  const writer = child.stdin.getWriter();
  // Python reads all of stdin before it writes, so writing first cannot deadlock.
  await writer.write(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  await writer.write(new Uint8Array(given.buffer, given.byteOffset, given.byteLength));
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || text === "") {
    return {
      _tag: "Skipped",
      why: `python failed: ${new TextDecoder().decode(out.stderr).trim().slice(-300)}`,
    };
  }
  const r = JSON.parse(text) as { skipped?: string; seconds?: number; pred?: number[] };
  return r.pred !== undefined
    ? { _tag: "Ran", predicted: r.pred, seconds: r.seconds! }
    : { _tag: "Skipped", why: r.skipped ?? "no output" };
}

/**
 * Runs the script.
 *
 * @param argv Command-line arguments (see `--help`).
 * @returns The report it wrote.
 * @throws {UsageError} On bad flags.
 * @throws {DataFormatError | Deno.errors.NotFound} If `--embeddings` names a directory without
 * valid saved embeddings.
 * @throws {Deno.errors.NotCapable} Before any work, if the results file may not be written.
 */
export async function main(argv: readonly string[]): Promise<TransductiveReport> {
  const cfg = parseOrExit(transductiveCommand, argv);
  const fraction = cfg.fraction!, seed = cfg.seed!;
  const file = cfg.out ??
    `results/transductive/${new Date().toISOString().replaceAll(":", "-")}.json`;
  // Before the work, not after it: a results file the task may not write is a one-line error.
  if ((await Deno.permissions.query({ name: "write", path: file })).state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires write access to "${file}", run again with the --allow-write flag`,
    );
  }
  let features: Features;
  let runStep: number | undefined;
  let savedTest: SavedEmbeddings | undefined;
  if (cfg.embeddings !== undefined) {
    const saved = savedTest = await readEmbeddings(cfg.embeddings).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Deno.errors.NotFound(
        `--embeddings ${cfg.embeddings}: no ${EMBEDDINGS_FILES.header} there (exp:mnist writes ` +
          `it unless --no-dataset-eval; runs from before the data-set-level evaluation lack it)`,
      );
    });
    features = {
      x: Float64Array.from(saved.data),
      n: saved.header.rows,
      d: saved.header.cols,
      labels: saved.labels,
      classes: saved.header.numClasses,
      description: `${cfg.embeddings}: ${saved.header.dataset} test embeddings of step ` +
        `${saved.header.step}, ${saved.header.cols}-d`,
    };
    runStep = saved.header.step;
  } else {
    features = await projectedPixels(cfg.all);
  }
  // --calibrate's training embeddings, read before any work: a run without them is refused now.
  const savedTrain = cfg.calibrate ? await readTrainingEmbeddings(cfg.embeddings!) : undefined;
  const { x, n, d, labels, classes } = features;
  const r = evaluateDataset(x, n, d, labels, classes, {
    labelledFraction: fraction,
    seed,
    ...(cfg.minSize === undefined ? {} : { minClusterSize: cfg.minSize }),
  });
  console.log(
    `${features.description}: n = ${n}, ${r.neighbours}-NN graph (${r.search}) in ` +
      `${r.seconds.graph.toFixed(1)} s, ${r.edges} edges; evaluation ${
        r.seconds.total.toFixed(1)
      } s`,
  );
  for (const line of formatDatasetEvaluation(r)) console.log(`  ${line}`);

  const given = drawLabelled(labels, fraction, seed);
  const sk = await sklearnLabelSpreading(x, n, d, given, r.neighbours);
  const rest = n - r.transductive.labelled;
  console.log(`  side by side, the same ${r.transductive.labelled} labels, accuracy on ${rest}:`);
  const ours = `ours: propagateLabels on the ${r.neighbours}-NN graph`;
  const theirs = `scikit-learn: LabelSpreading(kernel="knn", n_neighbors=${r.neighbours})`;
  const width = Math.max(ours.length, theirs.length) + 2;
  console.log(
    `    ${ours.padEnd(width)}${r.transductive.accuracy.toFixed(4)}`,
  );
  let labelSpreading: TransductiveReport["labelSpreading"];
  if (sk._tag === "Ran") {
    const accuracy = transductiveAccuracy(sk.predicted, labels, given);
    labelSpreading = { accuracy, seconds: sk.seconds };
    console.log(
      `    ${theirs.padEnd(width)}${accuracy.toFixed(4)} ` +
        `(${sk.seconds.toFixed(2)} s incl. its own kNN)`,
    );
  } else {
    labelSpreading = { skipped: sk.why };
    console.log(`    scikit-learn: skipped — ${sk.why}`);
  }

  let run: TransductiveReport["run"];
  if (cfg.embeddings !== undefined) {
    const summary = await Deno.readTextFile(`${cfg.embeddings}/summary.json`)
      .then((t) => JSON.parse(t) as { datasetLevel?: DatasetEvaluation }, () => undefined);
    const theirs = summary?.datasetLevel;
    const comparable = theirs !== undefined && theirs.transductive.seed === seed &&
      theirs.transductive.labelledFraction === fraction && theirs.images === n;
    // Summaries from before the minimum-size cut lack it; one at another minSize is not compared.
    const theirMinSize = theirs?.singleLinkageMinSize as
      | DatasetEvaluation["singleLinkageMinSize"]
      | undefined;
    const matches = comparable
      ? theirs.transductive.accuracy === r.transductive.accuracy &&
        theirs.singleLinkage.acc === r.singleLinkage.acc &&
        theirs.mutualReachability.acc === r.mutualReachability.acc &&
        (theirMinSize?.minSize !== r.singleLinkageMinSize.minSize ||
          theirMinSize.acc === r.singleLinkageMinSize.acc)
      : null;
    run = {
      dir: cfg.embeddings,
      step: runStep!,
      summaryAccuracy: theirs?.transductive.accuracy ?? null,
      matchesSummary: matches,
    };
    console.log(
      matches === null
        ? `  (the run's summary.json has no comparable datasetLevel: other fraction, seed or images)`
        : `  the run's summary.json: transductive accuracy ` +
          `${theirs!.transductive.accuracy.toFixed(4)}, ` +
          (matches ? "identical to ours" : "DIFFERENT from ours"),
    );
  }

  const calibration = savedTrain === undefined ? undefined : calibrate(savedTrain, savedTest!, cfg);
  const report: TransductiveReport = {
    features: features.description,
    datasetLevel: r,
    labelSpreading,
    ...(run === undefined ? {} : { run }),
    ...(calibration === undefined ? {} : { calibration }),
  };
  await writeJsonAtomic(file, report);
  console.log(`written ${file}`);
  return report;
}

/** A run's training embeddings, or a one-line error saying why there are none. */
function readTrainingEmbeddings(dir: string): Promise<SavedEmbeddings> {
  return readEmbeddings(dir, "train").catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Deno.errors.NotFound(
      `--calibrate: ${dir} has no train_embeddings.json (exp:mnist writes the training split's ` +
        `embeddings beside the test split's; runs from before that lack them)`,
    );
  });
}

/**
 * `--calibrate`: the run's training embeddings fitted (minimum-size cut), the test split
 * assigned, and the membership probabilities calibrated (`experiments/fitted_calibration.ts`);
 * prints the figures and the test half's reliability table.
 */
function calibrate(
  train: SavedEmbeddings,
  test: SavedEmbeddings,
  cfg: {
    calibrationTrain?: number;
    calibrationPoints?: number;
    calibrationSamples?: number;
    minSize?: number;
  },
): FittedCalibration {
  const native = nativeNeighbourGemm();
  const t0 = performance.now();
  const c = calibrateFittedClusters(
    { data: train.data, rows: train.header.rows, cols: train.header.cols, labels: train.labels },
    { data: test.data, rows: test.header.rows, cols: test.header.cols, labels: test.labels },
    {
      classes: test.header.numClasses,
      trainPoints: cfg.calibrationTrain! > 0 ? cfg.calibrationTrain! : train.header.rows,
      points: cfg.calibrationPoints!,
      samples: cfg.calibrationSamples!,
      ...(cfg.minSize === undefined ? {} : { minSize: cfg.minSize }),
      ...(native.ok ? { gemm: native.gemm } : {}),
      log: (line) => console.log(`  [${((performance.now() - t0) / 1e3).toFixed(0)} s] ${line}`),
    },
  );
  const { fit, assignment: a, membership: m } = c;
  console.log(
    `  fitted on ${fit.trainPoints} training embeddings (clusters of ≥ ${fit.minSize}): ` +
      `training accuracy ${fit.trainAccuracy.toFixed(4)}; test half (${a.testPoints}): ` +
      `assignment accuracy ${a.accuracy.toFixed(4)} (Hungarian ${
        a.hungarianAccuracy.toFixed(4)
      }), ` +
      `${a.belowLambda} below λ`,
  );
  console.log(
    `  membership (${m.samples} samples, ${m.points} images a half): ε chosen on validation ` +
      `${m.epsilon.toPrecision(3)}; test half ECE ${m.test.ece.toFixed(4)}, accuracy ` +
      `${m.test.accuracy.toFixed(4)}, mean log-likelihood ${m.test.meanLogLikelihood.toFixed(4)}`,
  );
  console.log(`  reliability (test half): confidence bin, points, mean confidence, accuracy`);
  for (const b of m.test.bins) {
    if (b.count === 0) continue;
    console.log(
      `    [${b.from.toFixed(1)}, ${b.to.toFixed(1)}${b.to === 1 ? "]" : ")"}  ` +
        `${String(b.count).padStart(5)}  ${b.confidence.toFixed(3)}  ${b.accuracy.toFixed(3)}`,
    );
  }
  return c;
}

if (import.meta.main) await runMain(() => main(Deno.args));
