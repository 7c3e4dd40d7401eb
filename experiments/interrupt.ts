/**
 * Graceful interruption of a training loop. While a {@link StopRequest} is open, SIGINT
 * (Ctrl-C) and SIGTERM do not kill the process: they set {@link StopRequest.signal}, the loop
 * finishes its current step, writes a checkpoint and throws {@link Interrupted}; the task's
 * top level (`runMain` in cli.ts) restores the terminal, prints
 * "interrupted at step N; continue with --resume" and exits 130. A second signal while the
 * checkpoint is being written exits at once (130) — the previous checkpoint is intact, since
 * checkpoints are written atomically.
 *
 * @module
 */

/** Thrown by a training loop that stopped on a signal after checkpointing step `step`. */
export class Interrupted extends Error {
  override name = "Interrupted";
  /**
   * @param step The last finished (and checkpointed) step.
   * @param signal The signal that asked for the stop.
   * @param hint How to continue (default: "continue with --resume").
   */
  constructor(
    readonly step: number,
    readonly signal: string,
    readonly hint = "continue with --resume",
  ) {
    super(`interrupted at step ${step} by ${signal}; ${hint}`);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Signals within this many milliseconds of the first count as the same interrupt (found as a
 * flaky test: `deno task` forwards SIGINT to the child that the terminal already signalled).
 */
export const SAME_SIGNAL_MS = 1000;

/** Open stop requests: while there are none, a signal ends the task at once. */
let open = 0;

function restoreTerminalNow(): void {
  const seq = new TextEncoder().encode("\x1b[?25h\x1b[?7h");
  try {
    if (Deno.stdout.isTerminal()) Deno.stdout.writeSync(seq);
  } catch { /* nothing to restore */ }
}

/**
 * For a task's top level: SIGINT/SIGTERM outside a training loop (loading data, evaluating,
 * a task without checkpoints) restore the terminal and exit 130 at once, as a plain kill
 * would but without leaving the cursor hidden. Inside a loop, {@link listenForStop} wins.
 *
 * @returns A function that removes the listeners.
 */
export function exitOnSignal(): () => void {
  const handlers: [Deno.Signal, () => void][] = [];
  for (const sig of SIGNALS) {
    if (Deno.build.os === "windows" && sig !== "SIGINT") continue;
    const h = () => {
      if (open > 0) return;
      restoreTerminalNow();
      console.error(`\n${sig}: interrupted (no training step was running)`);
      Deno.exit(130);
    };
    Deno.addSignalListener(sig, h);
    handlers.push([sig, h]);
  }
  return () => {
    for (const [sig, h] of handlers.splice(0)) Deno.removeSignalListener(sig, h);
  };
}

/** An open request to stop on SIGINT/SIGTERM: check `signal` after every step, then close. */
export interface StopRequest {
  /** The signal received, or null while none has come. */
  readonly signal: string | null;
  /** Stops listening (signals kill the process again), unless a signal came: then repeats stay handled. */
  close(): void;
}

/**
 * Starts listening for SIGINT and SIGTERM (on Windows only SIGINT exists).
 *
 * @param onFirst Called once with the first signal (e.g. to log that the step is finishing).
 * @returns The request; close it when the loop ends.
 */
export function listenForStop(onFirst?: (signal: string) => void): StopRequest {
  let received: string | null = null, receivedAt = 0;
  const handlers: [Deno.Signal, () => void][] = [];
  for (const sig of SIGNALS) {
    if (Deno.build.os === "windows" && sig !== "SIGINT") continue;
    const h = () => {
      // One Ctrl-C can arrive twice: the terminal signals the whole process group, and
      // `deno task` forwards the signal to its child as well. A repeat within
      // SAME_SIGNAL_MS is that one Ctrl-C, not the user insisting.
      if (received !== null && performance.now() - receivedAt < SAME_SIGNAL_MS) return;
      if (received !== null) {
        // Second signal: the user insists. Restore the terminal and leave now.
        restoreTerminalNow();
        console.error(`\n${sig} again: exiting without finishing the checkpoint`);
        Deno.exit(130);
      }
      received = sig;
      receivedAt = performance.now();
      onFirst?.(sig);
    };
    Deno.addSignalListener(sig, h);
    handlers.push([sig, h]);
  }
  open++;
  return {
    get signal() {
      return received;
    },
    close() {
      if (handlers.length === 0) return;
      // After a stop signal the process is on its way out with 130: keep the handlers, so that
      // the copy `deno task` forwards (or a group kill's) is not the default action's 143.
      const keep = received !== null;
      for (const [sig, h] of handlers.splice(0)) if (!keep) Deno.removeSignalListener(sig, h);
      open--;
    },
  };
}
