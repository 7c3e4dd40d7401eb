/**
 * The paper's training signal as one fp-ts `flow` of pure functions:
 *
 *   points → similarity Σ → (standardise) → perturbed solvers → partial Fenchel–Young loss
 *
 * Configuration comes from outside (CLI flags, JSON files), so it is decoded once, at the edge,
 * by one io-ts codec ({@link decodePipelineConfig}) into an `Either` whose left side lists
 * messages naming each bad option; inside, the decoded config is trusted.
 *
 * @module
 */
import { constraintsFromLabels } from "../constrained/constrained_forest.ts";
import { E, flow, t } from "../deps/fp.ts";
import { show } from "../core/errors.ts";
import { type LossAndGradient, partialFyLoss } from "./fy_loss.ts";
import type { Matrix } from "../core/matrix.ts";
import { checkPerturbedOptions } from "../perturbed/perturbed.ts";
import {
  cosineSimilarity,
  negSquaredDistances,
  negSquaredDistancesVjp,
  standardise,
  standardiseVjp,
} from "../core/similarity.ts";

interface PositiveFiniteBrand {
  readonly PositiveFinite: unique symbol;
}
interface PositiveIntegerBrand {
  readonly PositiveInteger: unique symbol;
}

const PositiveFinite = t.brand(
  t.number,
  (v): v is t.Branded<number, PositiveFiniteBrand> => Number.isFinite(v) && v > 0,
  "PositiveFinite",
);
const PositiveInteger = t.brand(
  t.number,
  (v): v is t.Branded<number, PositiveIntegerBrand> => Number.isInteger(v) && v > 0,
  "PositiveInteger",
);

/** The io-ts codec of {@link PipelineConfig} (required and optional fields, before defaults). */
const PipelineConfigCodec = t.intersection([
  t.type({
    /** Number of clusters. */
    k: PositiveInteger,
    /** Noise scale ε. */
    epsilon: PositiveFinite,
    /** Monte-Carlo samples. */
    samples: PositiveInteger,
  }),
  t.partial({
    noise: t.keyof({ gaussian: null, gumbel: null }),
    antithetic: t.boolean,
    similarity: t.keyof({ negSquaredDistances: null, cosine: null }),
    standardise: t.boolean,
    constrainedSolver: t.keyof({ greedy: null, exact: null }),
  }),
]);

/**
 * The result of a decoder: structurally an fp-ts `Either<string[], A>`, so `E.isRight`,
 * `E.match`, `pipe(…)` work on it; `left` holds one message per bad option.
 *
 * @category Losses
 */
export type Decoded<A> =
  | { readonly _tag: "Left"; readonly left: string[] }
  | { readonly _tag: "Right"; readonly right: A };

/**
 * A decoded, complete pipeline configuration (defaults filled in).
 *
 * @category Losses
 */
export interface PipelineConfig {
  /** Number of clusters k. */
  readonly k: number;
  /** Noise scale ε > 0. */
  readonly epsilon: number;
  /** Monte-Carlo samples B. */
  readonly samples: number;
  /** Noise distribution (default "gaussian"). */
  readonly noise: "gaussian" | "gumbel";
  /** Antithetic pairs (default false). */
  readonly antithetic: boolean;
  /** Similarity of the points (default "negSquaredDistances", the paper's −‖x_i − x_j‖²). */
  readonly similarity: "negSquaredDistances" | "cosine";
  /** Standardise Σ before perturbing it (default true, as the paper's code). */
  readonly standardise: boolean;
  /** Constrained solver of the partial loss (default "greedy"). */
  readonly constrainedSolver: "greedy" | "exact";
}

function describeErrors(errors: t.Errors): string[] {
  return errors.map((e) => {
    const path = e.context.map((c) => c.key).filter((key) => key !== "" && !/^\d+$/.test(key))
      .join(".");
    const expected = e.context.length > 0 ? e.context[e.context.length - 1].type.name : "?";
    return e.message ??
      (path === ""
        ? `Invalid config = ${show(e.value)}: expected an object`
        : `Invalid ${path} = ${show(e.value)}: expected ${expected}`);
  });
}

/**
 * Decodes an untrusted configuration (e.g. parsed JSON) into a {@link PipelineConfig}, with
 * defaults filled in and the cross-option rules of the perturbed solvers checked (antithetic
 * needs Gaussian noise and an even number of samples).
 *
 * @param input Anything.
 * @returns `Right(config)` or `Left(messages)`, one message per bad option, each naming it.
 *
 * @example Valid and invalid configurations
 * ```ts
 * import { decodePipelineConfig } from "./pipeline.ts";
 * import { E } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * const ok = decodePipelineConfig({ k: 3, epsilon: 0.1, samples: 100 });
 * assert.ok(E.isRight(ok) && ok.right.noise === "gaussian");
 * const bad = decodePipelineConfig({ k: 3, epsilon: -1, samples: 100, noise: "cauchy" });
 * assert.ok(E.isLeft(bad));
 * assert.ok(bad.left.some((m) => m.startsWith("Invalid epsilon = -1")));
 * assert.ok(bad.left.some((m) => m.startsWith('Invalid noise = "cauchy"')));
 * ```
 *
 * @category Losses
 */
export function decodePipelineConfig(input: unknown): Decoded<PipelineConfig> {
  return E.flatMap(
    E.mapLeft(describeErrors)(PipelineConfigCodec.decode(input)),
    (raw): E.Either<string[], PipelineConfig> => {
      const config: PipelineConfig = {
        k: raw.k,
        epsilon: raw.epsilon,
        samples: raw.samples,
        noise: raw.noise ?? "gaussian",
        antithetic: raw.antithetic ?? false,
        similarity: raw.similarity ?? "negSquaredDistances",
        standardise: raw.standardise ?? true,
        constrainedSolver: raw.constrainedSolver ?? "greedy",
      };
      try {
        checkPerturbedOptions(config);
      } catch (e) {
        return E.left([(e as Error).message]);
      }
      return E.right(config);
    },
  );
}

/**
 * What the pipeline returns: the loss, its gradient with respect to the Σ it saw (`grad`), that
 * Σ, and — chained back through the standardisation and Σ = −‖x_i − x_j‖² — the gradient with
 * respect to the points.
 *
 * @category Losses
 */
export interface PipelineResult extends LossAndGradient {
  /** The (standardised) similarity matrix the perturbed solvers were applied to. */
  readonly sigma: Matrix;
  /**
   * ∂loss/∂points (n × d), by the chain rule through `standardiseVjp` and
   * `negSquaredDistancesVjp`; `null` for the cosine similarity (no VJP implemented).
   */
  readonly gradPoints: number[][] | null;
}

/**
 * Builds the pure pipeline points → Σ → (standardise) → partial Fenchel–Young loss for a
 * decoded configuration. `grad` is with respect to the Σ the loss saw (`result.sigma`, after
 * standardisation); `gradPoints` chains it back to the points, so the example below can learn
 * point positions by plain gradient descent.
 *
 * @param config A decoded configuration (see {@link decodePipelineConfig}).
 * @returns `(labels, seed) => (points) => { loss, grad, sigma }` with `labels` one integer or
 * `null` (unlabelled) per point.
 * @throws {TypeError | RangeError} From the stages, on invalid points, labels or seed.
 *
 * @example Partial labels that disagree with the geometry cost something
 * ```ts
 * import { decodePipelineConfig, partialLossPipeline } from "./pipeline.ts";
 * import { E } from "../deps/fp.ts";
 * import assert from "node:assert/strict";
 * const config = decodePipelineConfig({ k: 2, epsilon: 0.1, samples: 20 });
 * if (E.isLeft(config)) throw new Error(config.left.join("; "));
 * const run = partialLossPipeline(config.right)([0, 1, 1, null], 7);
 * const { loss } = run([[0], [1], [10], [11]]);
 * assert.ok(loss > 0);
 * ```
 *
 * @category Losses
 */
export function partialLossPipeline(
  config: PipelineConfig,
): (
  labels: readonly (number | null)[],
  seed: number,
) => (points: readonly (readonly number[])[]) => PipelineResult {
  const loss = partialFyLoss(config);
  const similarity = config.similarity === "cosine" ? cosineSimilarity : negSquaredDistances;
  const scale = config.standardise ? standardise : (sigma: Matrix) => sigma;
  return (labels, seed) => {
    const constraints = constraintsFromLabels(labels);
    return (points) => {
      const raw = similarity(points);
      const result = flow(
        scale,
        (sigma: Matrix) => ({ ...loss(sigma, constraints, seed), sigma }),
      )(raw);
      if (config.similarity === "cosine") return { ...result, gradPoints: null };
      const gradRaw = config.standardise ? standardiseVjp(raw, result.grad) : result.grad;
      return { ...result, gradPoints: negSquaredDistancesVjp(points, gradRaw) };
    };
  };
}
