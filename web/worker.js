/**
 * The page's Web Worker: every Monte-Carlo estimate (perturbed connectivity M*_ε, partial
 * Fenchel–Young loss and its gradient, the learning loop) runs here, so the page stays
 * responsive. Messages in: `analyse`, `learn`, `stop`; out: `analysis`, `step`, `error`.
 *
 * @module
 */
import {
  constraintsFromMatrix,
  makePerturbed,
  maxSpanningForest,
  negSquaredDistances,
  negSquaredDistancesVjp,
  partialFyLoss,
  standardise,
  standardiseVjp,
} from "./spanclust.js";
import { denoiseTrainer } from "./learn.js";

/** Bumped by every `learn` and `stop`: a loop whose number is no longer current ends. */
let learnRun = 0;

function analyse({ id, points, k, epsilon, samples, seed, pairs }) {
  const n = points.length;
  const raw = negSquaredDistances(points);
  const sigma = standardise(raw);
  const perturbed = makePerturbed(maxSpanningForest, { k, epsilon, samples, noise: "gaussian" });
  const { connectivity } = perturbed(sigma, seed);
  let loss = null, gradPoints = null;
  if (pairs.length > 0) {
    const rows = Array.from({ length: n }, () => new Array(n).fill(null));
    for (const [i, j, kind] of pairs) rows[i][j] = rows[j][i] = kind;
    const lossFn = partialFyLoss({ k, epsilon, samples, noise: "gaussian" });
    const r = lossFn(sigma, constraintsFromMatrix(rows), seed);
    loss = r.loss;
    gradPoints = negSquaredDistancesVjp(points, standardiseVjp(raw, r.grad));
  }
  self.postMessage({ type: "analysis", id, connectivity: connectivity.data, loss, gradPoints });
}

async function learn(cfg, run) {
  const mine = ++learnRun;
  const trainer = denoiseTrainer(cfg);
  self.postMessage({ type: "step", run, record: trainer.record0 });
  for (let s = 0; s < cfg.steps && mine === learnRun; s++) {
    const t0 = performance.now();
    const record = trainer.step();
    self.postMessage({ type: "step", run, record: { ...record, ms: performance.now() - t0 } });
    // Yield so that a `stop` (or a new `learn`) message is seen between steps.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (mine === learnRun) self.postMessage({ type: "done", run });
}

self.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type === "analyse") analyse(msg);
    else if (msg.type === "learn") {
      learn(msg.config, msg.run).catch((e) =>
        self.postMessage({ type: "error", message: String(e) })
      );
    } else if (msg.type === "stop") learnRun++;
  } catch (e) {
    self.postMessage({
      type: "error",
      id: msg.id,
      message: e instanceof Error ? e.message : String(e),
    });
  }
};
