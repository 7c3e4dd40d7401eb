/**
 * `deno task exp:semi`: one cell of the semi-supervised experiment (experiments/semi/cell.ts),
 * or with `--grid` the whole grid n_ℓ × k_w × seeds and Figure 4 (experiments/semi/grid.ts).
 * Imports run one way: main → grid → cell, main → cell.
 *
 * @module
 */
import { parseOrExit, runMain } from "../cli/flags.ts";
import { semiCommand } from "./flags.ts";
import { markFinished, openRunDir } from "../run_dir.ts";
import { selectBackend } from "../../tf/backend.ts";
import { isConvolutional } from "../models.ts";
import { type MnistConfig, modelFor } from "../mnist/main.ts";
import { cellOut, type CellResult, runSemiCell, type SemiConfig } from "./cell.ts";
import {
  gridConfigFromSemiConfig,
  gridOptionsOf,
  type GridReport,
  openGridDir,
  runGrid,
  semiCellRunner,
} from "./grid.ts";

/**
 * Runs `exp:semi` (one cell) with the given arguments.
 *
 * @param argv Command-line arguments.
 * @returns The cell's result.
 */
export async function main(argv: readonly string[]): Promise<CellResult | GridReport> {
  const cfg = parseOrExit(semiCommand, argv) as SemiConfig;
  if (cfg.grid) {
    // The whole grid (resumable cell by cell, Figure 4).
    const config = gridConfigFromSemiConfig(cfg);
    await openGridDir(config);
    return runGrid(gridOptionsOf(config), semiCellRunner(config));
  }
  const out = (cfg.out ?? cellOut(cfg)).replace(/\/+$/, "");
  await openRunDir(out, { command: "exp:semi", config: cfg, resume: cfg.resume });
  const backend = await selectBackend(cfg.backend, undefined, {
    convolutional: isConvolutional(modelFor(cfg as unknown as MnistConfig)),
  });
  const r = await runSemiCell({ ...cfg, out }, backend.name);
  await markFinished(out, r.ours.summary.stepsDone);
  for (const [name, m] of [["ours", r.ours], ["ce", r.ce]] as const) {
    console.log(
      `[exp:semi] n_l = ${r.nLabelled}, k_w = ${r.withheld}, ${name}: clustering error ` +
        `${m.clusteringError.toFixed(4)}, probe test accuracy ${m.probeTestAccuracy.toFixed(4)}`,
    );
  }
  return r;
}

if (import.meta.main) {
  await runMain(async () => {
    const result = await main(Deno.args);
    if ("failed" in result && result.failed.length > 0) {
      throw new Error(`${result.failed.length} grid cell(s) failed (listed above)`);
    }
  });
}
