/**
 * The size flags of the comparison scripts (`--n2d 100000`): read from `Deno.args`, checked,
 * and a one-line error with exit status 2 when the value is not a size.
 *
 * @module
 */

/**
 * The integer after `name` in `Deno.args`, or `fallback` when the flag is absent; exits with
 * status 2 and a one-line message when it is not an integer ≥ 2.
 *
 * @param name The flag, e.g. "--n2d".
 * @param fallback Its default.
 * @returns The size.
 */
export function sizeFlag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i === -1) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isInteger(v) || v < 2) {
    console.error(`Invalid ${name} = ${Deno.args[i + 1]}: an integer ≥ 2 is needed`);
    Deno.exit(2);
  }
  return v;
}
