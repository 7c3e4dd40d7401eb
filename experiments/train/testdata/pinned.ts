/**
 * Figures pinned by the tests of `exp:mnist` and `exp:otkmeans`: metrics, summaries and the
 * SHA-256 of the last checkpoint's weights of a tiny `exp:mnist` run and of the `exp:otkmeans`
 * smoke preset, on the cpu backend (deterministic), as the training loops gave them before
 * `experiments/train/loop.ts` took them over. A change that moves a figure by one bit fails.
 *
 * @module
 */

/**
 * Path of a pinned file.
 *
 * @param name File name in this folder.
 * @returns Its path.
 */
export function pinned(name: string): string {
  return new URL(`./${name}`, import.meta.url).pathname;
}

/**
 * SHA-256 of a file, as hex.
 *
 * @param path File.
 * @returns 64 hex digits.
 */
export async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A copy of `value` without the named keys, at any depth (timings, paths).
 *
 * @param value JSON value.
 * @param keys Keys to drop.
 * @returns The copy.
 */
export function without(value: unknown, keys: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => without(v, keys));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([k]) => !keys.includes(k)).map(([k, v]) => [k, without(v, keys)]),
  );
}
