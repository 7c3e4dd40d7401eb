import assert from "node:assert/strict";
import { E } from "../../lib/deps/fp.ts";
import { type Command, flag, helpText, kebab, parseFlags } from "./flags.ts";
import { mnistCommand } from "../mnist/flags.ts";
import { semiCommand } from "../semi/flags.ts";

const config = <F extends Parameters<typeof parseFlags>[0]>(cmd: F, argv: string[]) => {
  const r = parseFlags(cmd, argv);
  if (E.isLeft(r)) throw new Error(r.left);
  if (r.right._tag !== "Config") throw new Error("expected a config");
  return r.right.config;
};
const error = (
  cmd: Command<never> | typeof mnistCommand | typeof semiCommand,
  argv: string[],
) => {
  const r = parseFlags(cmd as typeof mnistCommand, argv);
  assert.ok(E.isLeft(r), "expected an error");
  return r.left;
};

Deno.test("experiment flags: defaults, typed values, kebab-case names", () => {
  const c = config(mnistCommand, []);
  assert.equal(c.batchSize, 64);
  assert.equal(c.backend, "wasm"); // the quick preset trains the paper LeNet on wasm
  assert.equal(c.model, "paper-lenet");
  assert.equal(config(mnistCommand, ["--preset", "quick-mlp"]).model, "mlp");
  assert.equal(c.resume, false);
  assert.equal(c.dataDir, undefined);
  const d = config(mnistCommand, [
    "--learning-rate",
    "1e-3",
    "--steps=20",
    "--resume",
    "--backend",
    "cpu",
  ]);
  assert.deepEqual([d.learningRate, d.steps, d.resume, d.backend], [1e-3, 20, true, "cpu"]);
});

Deno.test("experiment flags: presets change defaults; explicit flags win", () => {
  const p = config(mnistCommand, ["--preset", "paper"]);
  assert.deepEqual([p.model, p.steps], ["paper-lenet", 30000]);
  const q = config(mnistCommand, ["--preset", "paper", "--steps", "5"]);
  assert.deepEqual([q.model, q.steps], ["paper-lenet", 5]);
});

Deno.test("experiment flags: unknown flags are rejected with a suggestion", () => {
  assert.match(
    error(mnistCommand, ["--stepz", "3"]),
    /Unknown flag --stepz for exp:mnist.*--help/,
  );
  assert.match(error(mnistCommand, ["--step", "3"]), /did you mean --steps/);
  assert.match(error(mnistCommand, ["extra"]), /Invalid arguments.*positional/i);
});

Deno.test("experiment flags: invalid values name the flag and what it expects", () => {
  assert.match(
    error(mnistCommand, ["--steps", "1.5"]),
    /Invalid --steps "1\.5": expected an integer in \[1,/,
  );
  assert.match(error(mnistCommand, ["--steps", "abc"]), /Invalid --steps "abc"/);
  assert.match(
    error(mnistCommand, ["--epsilon=-1"]),
    /Invalid --epsilon "-1": expected a number in \(0, ∞\)/,
  );
  assert.match(
    error(mnistCommand, ["--backend", "tpu"]),
    /expected one of auto, webgpu, tensorflow, wasm, cpu, got "tpu"/,
  );
  assert.match(error(mnistCommand, ["--steps"]), /Invalid arguments.*steps/);
  assert.match(error(mnistCommand, ["--preset", "fast"]), /Invalid --preset "fast"/);
  const both = error(mnistCommand, ["--steps", "x", "--k", "0"]);
  assert.match(both, /--steps[\s\S]*--k/); // every bad flag reported at once
});

Deno.test("experiment flags: lists of integers", () => {
  assert.deepEqual(config(semiCommand, ["--grid-n-labelled", "100,250"]).gridNLabelled, [
    100,
    250,
  ]);
  assert.match(
    error(semiCommand as never, ["--grid-withheld", "0,12"]),
    /comma-separated integers in \[0, 9\]/,
  );
});

Deno.test("experiment flags: --help lists every flag with default and description", () => {
  const r = parseFlags(semiCommand, ["--help"]);
  assert.ok(E.isRight(r) && r.right._tag === "Help");
  const text = helpText(semiCommand);
  assert.equal(r.right.text, text);
  for (const [k, f] of Object.entries(semiCommand.flags)) {
    const line = text.split("\n").find((l) => l.startsWith(`  --${kebab(k)} `));
    assert.ok(line, `--${kebab(k)} listed`);
    assert.ok(line.includes(f.description));
    if (!f.boolean && f.default !== undefined) assert.match(line, /\((default|quick): /);
  }
  assert.match(
    text,
    /--steps <int> +Training steps \(quick: 10000; quick-mlp: 30000; paper: 30000\)/,
  );
});

Deno.test("experiment flags: --help shows the value each preset gives, and the --out default", () => {
  const r = parseFlags(mnistCommand, ["--help"]);
  assert.ok(E.isRight(r) && r.right._tag === "Help");
  const text = r.right._tag === "Help" ? r.right.text : "";
  const line = (flag: string) => text.split("\n").find((l) => l.startsWith(`  --${flag} `))!;
  // The bare default small-cnn never applies (a preset always does): not shown.
  assert.match(line("model"), /\(quick: paper-lenet; quick-mlp: mlp; paper: paper-lenet\)$/);
  assert.doesNotMatch(line("model"), /default: small-cnn/);
  assert.match(line("backend"), /\(quick: wasm; quick-mlp: wasm; paper: auto\)$/);
  assert.match(line("out"), /\(default: results\/<dataset>-<preset>-seed<seed>\)$/);
  assert.match(line("batch-size"), /\(default: 64\)$/);
});

Deno.test("experiment flags: `deno task X -- --help`: a leading -- is dropped", () => {
  const r = parseFlags(mnistCommand, ["--", "--help"]);
  assert.ok(E.isRight(r) && r.right._tag === "Help");
  assert.equal(config(mnistCommand, ["--", "--steps", "7"]).steps, 7);
});

Deno.test("experiment flags: everything checkable is checked before any work", () => {
  assert.match(
    error(mnistCommand, ["--k", "100"]),
    /--k 100 exceeds --batch-size 64: a batch of 64 images cannot be split into 100 clusters/,
  );
  assert.match(error(mnistCommand, ["--epsilon", "0"]), /Invalid --epsilon "0": .*\(0, ∞\)/);
  assert.match(
    error(mnistCommand, ["--train-limit", "10"]),
    /--train-limit 10 is smaller than --batch-size 64/,
  );
  // wasm trains convolutions now (tf/_wasm_kernels.ts): no such refusal any more.
  const cnn = config(mnistCommand, ["--model", "small-cnn"]);
  assert.deepEqual([cnn.model, cnn.backend], ["small-cnn", "wasm"]);
  assert.match(error(semiCommand, ["--k", "65"]), /--k 65 exceeds --batch-size 64/);
});

Deno.test(
  "experiment flags: exp:mnist's data-set-level evaluation: on by default, off by a flag, not in exp:semi",
  () => {
    const on = config(mnistCommand, []);
    assert.deepEqual([on.noDatasetEval, on.datasetImages], [false, 0]);
    const off = config(mnistCommand, ["--no-dataset-eval", "--dataset-images", "500"]);
    assert.deepEqual([off.noDatasetEval, off.datasetImages], [true, 500]);
    assert.match(
      error(mnistCommand, ["--dataset-images", "15"]),
      /--dataset-images 15 is too small: .*15-NN graph needs at least 16 images \(0: all\)/,
    );
    assert.match(
      error(mnistCommand, ["--dataset-images=-1"]),
      /Invalid --dataset-images "-1"/,
    );
    // exp:semi trains the same engine but does not run the evaluation: no flag that does nothing.
    assert.match(
      error(semiCommand, ["--dataset-images", "500"]),
      /Unknown flag --dataset-images/,
    );
    assert.match(error(semiCommand, ["--no-dataset-eval"]), /Unknown flag --no-dataset-eval/);
  },
);

Deno.test("experiment flags: exp:mnist --augment: optional, a choice, refused on cifar10", () => {
  assert.equal(config(mnistCommand, []).augment, undefined);
  assert.equal(
    config(mnistCommand, ["--dataset", "fashion", "--augment", "flip-shift"]).augment,
    "flip-shift",
  );
  assert.match(
    error(mnistCommand, ["--augment", "rotate"]),
    /Invalid --augment "rotate": expected one of none, flip, shift, flip-shift, got "rotate"/,
  );
  assert.match(
    error(mnistCommand, ["--dataset", "cifar10", "--augment", "flip"]),
    /--augment flip applies to mnist and fashion: cifar10 always trains on pad-4 random crops/,
  );
  assert.equal(config(mnistCommand, ["--dataset", "cifar10", "--augment", "none"]).augment, "none");
  // exp:semi's grid keeps its flags: a saved grid's settings do not change.
  assert.match(error(semiCommand, ["--augment", "flip"]), /Unknown flag --augment/);
});

Deno.test("experiment flags: exp:mnist's large-batch flags: optional, checked against each other", () => {
  // Absent unless given, so the settings of runs saved before them do not change.
  const plain = config(mnistCommand, []);
  for (const k of ["lossGraph", "graphNeighbours", "maxMinutes", "evalBatchSize"] as const) {
    assert.equal(plain[k], undefined, k);
  }
  const knn = config(mnistCommand, [
    "--loss-graph",
    "knn",
    "--batch-size",
    "1024",
    "--graph-neighbours",
    "20",
    "--max-minutes",
    "0.5",
    "--eval-batch-size",
    "64",
  ]);
  assert.deepEqual(
    [knn.lossGraph, knn.batchSize, knn.graphNeighbours, knn.maxMinutes, knn.evalBatchSize],
    ["knn", 1024, 20, 0.5, 64],
  );
  assert.match(
    error(mnistCommand, ["--loss-graph", "sparse"]),
    /Invalid --loss-graph "sparse": expected one of dense, knn, got "sparse"/,
  );
  assert.match(
    error(mnistCommand, ["--loss-graph", "knn", "--graph-neighbours", "0"]),
    /Invalid --graph-neighbours "0": expected an integer in \[1, /,
  );
  assert.match(
    error(mnistCommand, ["--loss-graph", "knn", "--graph-neighbours", "64"]),
    /--graph-neighbours 64 must be below --batch-size 64: a point of a batch has at most 63/,
  );
  // The default 15 neighbours are checked too.
  assert.match(
    error(mnistCommand, ["--loss-graph", "knn", "--batch-size", "12", "--k", "3"]),
    /--graph-neighbours 15 must be below --batch-size 12/,
  );
  assert.match(
    error(mnistCommand, ["--graph-neighbours", "15"]),
    /--graph-neighbours 15 applies only with --loss-graph knn \(the dense loss uses every pair/,
  );
  assert.match(error(mnistCommand, ["--max-minutes", "0"]), /Invalid --max-minutes "0"/);
  assert.match(
    error(mnistCommand, ["--eval-batch-size", "8"]),
    /--k 10 exceeds --eval-batch-size 8: an evaluation batch of 8 images/,
  );
  assert.match(
    error(mnistCommand, ["--eval-batch-size", "5001"]),
    /Invalid --eval-batch-size "5001": expected an integer in \[2, 5000\]/,
  );
  assert.match(error(semiCommand, ["--loss-graph", "knn"]), /Unknown flag --loss-graph/);
});

Deno.test("experiment flags: a custom command", () => {
  const cmd = {
    name: "exp:toy",
    summary: "Toy",
    flags: {
      points: flag.int("Points", 100, 10, 1000),
      method: flag.choice(["a", "b"] as const, "M", "a"),
    },
  };
  const c = config(cmd, ["--points", "10"]);
  assert.deepEqual(c, { points: 10, method: "a" });
  assert.match(error(cmd as never, ["--points", "9"]), /\[10, 1000\]/);
});
