/**
 * The flags of a tiny cpu run of `exp:mnist`, shared by the tests that train one (in process
 * and as a subprocess): 640 training images, batches of 32, 8 samples, an evaluation every 3
 * steps on 2 batches, 2 test batches, quiet.
 *
 * @module
 */

/**
 * Flags of a tiny `exp:mnist` run.
 *
 * @param out The run directory.
 * @param steps Training steps.
 * @param checkpointEvery Steps between checkpoints.
 * @returns The flags; callers append their own (seed, data-set evaluation, --resume, …).
 */
export function tinyMnistFlags(out: string, steps: number, checkpointEvery: number): string[] {
  return [
    "--backend",
    "cpu",
    "--model",
    "mlp",
    "--embedding-dim",
    "8",
    "--train-limit",
    "640",
    "--batch-size",
    "32",
    "--samples",
    "8",
    "--steps",
    String(steps),
    "--eval-every",
    "3",
    "--checkpoint-every",
    String(checkpointEvery),
    "--eval-batches",
    "2",
    "--test-batches",
    "2",
    "--quiet",
    "--out",
    out,
  ];
}
