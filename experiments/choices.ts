/**
 * The values of `--backend` and `--model`, without importing tfjs: the command line (cli.ts)
 * must parse flags and print `--help` without loading tfjs. The lists are checked at compile
 * time against the types of `tf/backend.ts` and `tf/models.ts` (type-only imports, erased), so
 * they cannot drift apart.
 *
 * @module
 */
import type { BackendChoice } from "../tf/backend.ts";
import type { ModelChoice } from "./models.ts";

/** `--backend` values (= tf/backend.ts's BACKEND_CHOICES). */
export const BACKEND_CHOICES = ["auto", "webgpu", "tensorflow", "wasm", "cpu"] as const;
/** `--model` values (= tf/models.ts's MODEL_CHOICES). */
export const MODEL_CHOICES = ["paper-lenet", "small-cnn", "mlp", "resnet"] as const;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const backendsMatch: Same<typeof BACKEND_CHOICES[number], BackendChoice> = true;
const modelsMatch: Same<typeof MODEL_CHOICES[number], ModelChoice> = true;
void [backendsMatch, modelsMatch];
