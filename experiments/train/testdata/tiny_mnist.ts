/**
 * The flags of a tiny cpu run of `exp:mnist`, shared by the tests that train one (in process
 * and as a subprocess): 640 training images, batches of 32, 8 samples, an evaluation every 3
 * steps on 2 batches, 2 test batches, quiet.
 *
 * @module
 */

/** The sizes of a tiny cpu run (the MLP with 8-d embeddings, batches of 32, evaluation every 3 steps). */
export interface TinyRun {
  readonly out: string;
  readonly trainLimit: number;
  readonly samples: number;
  readonly steps: number;
  readonly checkpointEvery: number;
  /** Validation and test batches. */
  readonly evalBatches: number;
}

/**
 * Flags of a tiny cpu training run of `exp:mnist` or `exp:semi` (their flags agree).
 *
 * @param r The sizes.
 * @returns The flags, ending with `--quiet --out <dir>`.
 */
export function tinyRunFlags(r: TinyRun): string[] {
  return [
    "--backend",
    "cpu",
    "--model",
    "mlp",
    "--embedding-dim",
    "8",
    "--train-limit",
    String(r.trainLimit),
    "--batch-size",
    "32",
    "--samples",
    String(r.samples),
    "--steps",
    String(r.steps),
    "--eval-every",
    "3",
    "--checkpoint-every",
    String(r.checkpointEvery),
    "--eval-batches",
    String(r.evalBatches),
    "--test-batches",
    String(r.evalBatches),
    "--quiet",
    "--out",
    r.out,
  ];
}

/**
 * Flags of a tiny `exp:mnist` run.
 *
 * @param out The run directory.
 * @param steps Training steps.
 * @param checkpointEvery Steps between checkpoints.
 * @returns The flags; callers append their own (seed, data-set evaluation, --resume, …).
 */
export function tinyMnistFlags(out: string, steps: number, checkpointEvery: number): string[] {
  return tinyRunFlags({ out, trainLimit: 640, samples: 8, steps, checkpointEvery, evalBatches: 2 });
}
