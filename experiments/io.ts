/**
 * Atomic result writing. Every file is written to a temporary file in the same directory,
 * flushed to disk, then renamed over the target: rename within one file system is atomic on
 * POSIX, so a reader (or a run killed mid-write) sees either the old or the new file, never a
 * partial one.
 *
 * JSONL "append" rewrites the whole file atomically rather than using O_APPEND: an appended
 * line can be torn by a kill mid-write (leaving a last line that is not JSON, which breaks a
 * resume that reads the file back), while the rewrite keeps the file a sequence of complete
 * records at every instant. The cost is O(file size) per append, negligible for metrics logs
 * (one line per evaluation: 300 lines for a 30k-step run).
 *
 * @module
 */

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Whether something (a file, a directory, a link) stands at `path`.
 *
 * @param path A path.
 * @returns False when nothing is there.
 * @throws {Deno.errors.PermissionDenied} And any other error but NotFound.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Creates a new file with mode 0666 (the user's umask applies), writes `bytes` and flushes them
 * to disk.
 *
 * @param path A file that does not exist yet.
 * @param bytes Contents.
 * @returns Resolves when the bytes are on disk.
 * @throws {Deno.errors.AlreadyExists} If `path` exists.
 */
export async function writeNewFileFlushed(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o666 });
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * Writes bytes atomically (temp file in the same directory, fsync, rename); creates parent
 * directories.
 *
 * @param path Target file.
 * @param bytes Contents.
 * @returns Resolves when the file is in place.
 */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  // Not Deno.makeTempFile: it creates mode 0600, and the rename would keep that. A file
  // created with mode 0666 gets the user's umask, like any other tool's output.
  const tmp = `${dir}/.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await writeNewFileFlushed(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes text atomically (UTF-8).
 *
 * @param path Target file.
 * @param text Contents.
 * @returns Resolves when the file is in place.
 */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeBytesAtomic(path, new TextEncoder().encode(text));
}

/**
 * Writes a value as pretty-printed JSON (trailing newline) atomically.
 *
 * @param path Target file.
 * @param value JSON-serialisable value.
 * @returns Resolves when the file is in place.
 * @throws {TypeError} If the value is not serialisable (e.g. a BigInt or a cycle).
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** A CSV cell value. */
export type CsvValue = string | number | boolean | null | undefined;

function csvCell(v: CsvValue): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" && !Number.isFinite(v) ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Formats rows as RFC 4180 CSV with a header; missing values are empty cells.
 *
 * @param rows Records.
 * @param columns Column order (default: keys in order of first appearance).
 * @returns CSV text ending in a newline.
 */
export function toCsv(
  rows: readonly Readonly<Record<string, CsvValue>>[],
  columns?: readonly string[],
): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(csvCell).join(",")];
  for (const r of rows) lines.push(cols.map((c) => csvCell(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/**
 * Writes rows as CSV atomically.
 *
 * @param path Target file.
 * @param rows Records.
 * @param columns Column order.
 * @returns Resolves when the file is in place.
 */
export function writeCsvAtomic(
  path: string,
  rows: readonly Readonly<Record<string, CsvValue>>[],
  columns?: readonly string[],
): Promise<void> {
  return writeTextAtomic(path, toCsv(rows, columns));
}

/**
 * Reads a JSONL file (one JSON value per line); a missing file is an empty list.
 *
 * @param path File.
 * @returns The records.
 * @throws {SyntaxError} Naming the file and line if a line is not JSON.
 */
export async function readJsonl(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return text.split("\n").filter((l) => l.trim() !== "").map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(`Invalid JSON on line ${i + 1} of ${path}: ${(e as Error).message}`);
    }
  });
}

/**
 * Appends records to a JSONL file by rewriting it atomically (see the module doc for why).
 *
 * @param path File (created if missing).
 * @param records Records to append.
 * @returns Resolves when the file is in place.
 */
export async function appendJsonlAtomic(path: string, ...records: unknown[]): Promise<void> {
  let old = "";
  try {
    old = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (old !== "" && !old.endsWith("\n")) old += "\n";
  await writeTextAtomic(path, old + records.map((r) => JSON.stringify(r) + "\n").join(""));
}

/**
 * Rewrites a JSONL file keeping only the records that pass `keep` (e.g. on resume, drop
 * evaluations logged after the checkpoint's step).
 *
 * @param path File (a missing file stays missing).
 * @param keep Predicate.
 * @returns The number of records kept.
 */
export async function filterJsonlAtomic(
  path: string,
  keep: (record: unknown) => boolean,
): Promise<number> {
  const all = await readJsonl(path);
  const kept = all.filter(keep);
  if (kept.length !== all.length) {
    await writeTextAtomic(path, kept.map((r) => JSON.stringify(r) + "\n").join(""));
  }
  return kept.length;
}
