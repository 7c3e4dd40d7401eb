/**
 * Errors and argument checks shared by every public entry point.
 *
 * Bad input is reported with a built-in `TypeError` / `RangeError` (or the named
 * {@link InfeasibleConstraintsError}) whose message names the argument and the offending
 * value or position, so a caller never gets a silent `NaN` or a hang.
 *
 * @module
 */

/**
 * Thrown when a constrained problem (Definition 5 of the paper) has no feasible k-forest:
 * contradictory must-link / cannot-link chains, or more mutually cannot-linked groups than k.
 *
 * @example Catching it
 * ```ts
 * import { InfeasibleConstraintsError } from "./errors.ts";
 * const e = new InfeasibleConstraintsError("Cannot satisfy constraints");
 * if (!(e instanceof Error) || e.name !== "InfeasibleConstraintsError") throw new Error();
 * ```
 *
 * @category Core
 */
export class InfeasibleConstraintsError extends Error {
  /** Builds the error with a sentence-case message. */
  constructor(message: string) {
    super(message);
    this.name = "InfeasibleConstraintsError";
  }
}

/**
 * Thrown when an iterative method (e.g. Sinkhorn) stops without meeting its tolerance and the
 * caller asked for convergence to be enforced.
 *
 * @example Catching it
 * ```ts
 * import { ConvergenceError } from "./errors.ts";
 * const e = new ConvergenceError("Sinkhorn did not converge");
 * if (e.name !== "ConvergenceError") throw new Error();
 * ```
 *
 * @category Core
 */
export class ConvergenceError extends Error {
  /** Builds the error with a sentence-case message. */
  constructor(message: string) {
    super(message);
    this.name = "ConvergenceError";
  }
}

/** Short, stable rendering of a value for error messages. */
export function show(value: unknown): string {
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name} of length ${(value as Float64Array).length}`;
  }
  return typeof value;
}

/**
 * Asserts that `value` is an integer in `[lo, hi]`.
 *
 * @param name Argument name used in the message.
 * @param value The value to check.
 * @param lo Smallest allowed value.
 * @param hi Largest allowed value.
 * @param why Optional explanation appended to the message (e.g. "for n = 12").
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If `value` is not an integer in `[lo, hi]`.
 */
export function assertIntegerInRange(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  why = "",
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected ${name} to be a number, got ${show(value)}`);
  }
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(
      `Invalid ${name} = ${show(value)}: ${name} must be an integer in [${lo}, ${hi}]${
        why ? ` ${why}` : ""
      }`,
    );
  }
}

/**
 * Asserts that `value` is a finite number strictly greater than zero.
 *
 * @param name Argument name used in the message.
 * @param value The value to check.
 * @throws {TypeError} If `value` is not a number.
 * @throws {RangeError} If `value` is not finite or not positive.
 */
export function assertPositiveFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected ${name} to be a number, got ${show(value)}`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `Invalid ${name} = ${show(value)}: ${name} must be a finite number greater than 0`,
    );
  }
}

/**
 * Asserts that every entry of `data` is finite.
 *
 * @param name Argument name used in the message.
 * @param data Values to scan.
 * @param where Maps a flat index to a position label (default: `[index]`).
 * @throws {RangeError} Naming the first non-finite entry and its position.
 */
export function assertAllFinite(
  name: string,
  data: ArrayLike<number>,
  where: (index: number) => string = (i) => `[${i}]`,
): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new RangeError(`Invalid ${name}${where(i)} = ${show(v)}: entries must be finite`);
    }
  }
}
