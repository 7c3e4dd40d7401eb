/**
 * The flags of `exp:semi` (paper §4.2, appendix 11.2): `exp:mnist`'s training flags, checks and
 * presets, plus the cell (n_ℓ, k_w) and the grid.
 *
 * @module
 */
import { type Command, flag } from "../cli/flags.ts";
import { mnistChecks, mnistCommand, trainingFlags } from "../mnist/flags.ts";

/** Flags of `exp:semi` (paper §4.2, appendix 11.2). */
export const semiFlags = {
  ...trainingFlags,
  nLabelled: flag.int("Labelled images n_ℓ", 1000, 1),
  withheld: flag.int("Withheld classes k_w", 3, 0, 9),
  grid: flag.bool("Run the whole grid n_ℓ × k_w × seeds (resumable) and draw Figure 4"),
  gridNLabelled: flag.intList("n_ℓ values of --grid", [100, 250, 500, 1000, 2000, 5000], 1),
  gridWithheld: flag.intList("k_w values of --grid", [0, 3, 6], 0, 9),
  gridSeeds: flag.int("Seeds per --grid cell", 3, 1),
} as const;

/** `exp:semi`. */
export const semiCommand: Command<typeof semiFlags> = {
  name: "exp:semi",
  summary: "Semi-supervised learning through clustering with withheld classes, vs a CE baseline.",
  flags: semiFlags,
  presets: mnistCommand.presets as Command<typeof semiFlags>["presets"],
  outDefault: "results/<dataset>-<preset>-seed<seed>-semi-n<n-labelled>-kw<withheld> " +
    "(--grid: results/semi-grid)",
  checks: mnistChecks as Command<typeof semiFlags>["checks"],
};
