/**
 * The errors the command line turns into exit statuses (`runMain` in cli.ts): a usage error
 * exits 2, a results directory that cannot be used 1, `--resume` of a finished run 0.
 *
 * @module
 */

/** A command line that cannot run: bad flags or values (exit status 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A results directory that cannot be used as asked (exit status 1). */
export class RunSetupError extends Error {
  override name = "RunSetupError";
}

/** `--resume` on a run that already finished: nothing to do (exit status 0). */
export class AlreadyFinished extends Error {
  override name = "AlreadyFinished";
  /**
   * @param out The results directory.
   * @param step The step the run finished at.
   */
  constructor(readonly out: string, readonly step: number) {
    super(`${out}: already finished at step ${step}; nothing to resume`);
  }
}
