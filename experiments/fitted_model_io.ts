/**
 * A fitted clustering (`fitClusters`) saved to a directory and read back bit for bit:
 *
 *     model.json          the header (format, version, cut, λ, metric, columns, …) and, per
 *                         array file, its size in bytes and SHA-256
 *     points.npy          n × d float64, the preprocessed training points
 *     labels.npy          n int32
 *     core.npy            n float64 (mutual reachability only)
 *     mean.npy, sd.npy    d float64 (standardised only)
 *     graph_from.npy, graph_to.npy, graph_weight.npy   the fitted graph (not for dense fits)
 *     search_order.npy    n int32, the exact search's locality order of the training points
 *
 * The `.npy` files open with `numpy.load`. Saving writes every file into a temporary sibling
 * directory, flushes each, then renames the directory into place (replacing an existing model
 * only with `overwrite`): a reader never sees half a model. Reading checks the format and
 * version first, then each file's size and checksum, then every field and array
 * (`fittedClustersFromParts`); each problem is one line naming the file.
 *
 * @module
 */
import type { FittedClusters } from "../lib/graph/fitted_clusters.ts";
import {
  checkFittedClustersFormat,
  type FittedClustersArrays,
  fittedClustersFromParts,
  fittedClustersToParts,
} from "../lib/graph/fitted_clusters_codec.ts";
import { DataFormatError } from "./data/idx.ts";
import { decodeNpy, encodeNpy } from "./data/npy.ts";
import { pathExists, writeNewFileFlushed } from "./io.ts";

/** The header's file name inside a model directory. */
export const MODEL_FILE = "model.json";

/** Array name → file name. */
const FILES: Readonly<Record<keyof FittedClustersArrays, string>> = {
  points: "points.npy",
  labels: "labels.npy",
  core: "core.npy",
  mean: "mean.npy",
  sd: "sd.npy",
  graphFrom: "graph_from.npy",
  graphTo: "graph_to.npy",
  graphWeight: "graph_weight.npy",
  searchOrder: "search_order.npy",
};

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function split(path: string): [string, string] {
  const trimmed = path.replace(/\/+$/, "") || "/";
  const i = trimmed.lastIndexOf("/");
  return i < 0 ? [".", trimmed] : [i === 0 ? "/" : trimmed.slice(0, i), trimmed.slice(i + 1)];
}

/**
 * Saves a fitted model to a directory (module doc), atomically.
 *
 * @param dir The model directory (created with its parents).
 * @param model The model.
 * @param options `overwrite`: replace an existing directory (default false).
 * @returns Resolves when the directory is in place.
 * @throws {RangeError} If `dir` exists and `overwrite` is not set (before any work).
 */
export async function saveFittedClusters(
  dir: string,
  model: FittedClusters,
  options: { readonly overwrite?: boolean } = {},
): Promise<void> {
  if (!options.overwrite && await pathExists(dir)) {
    throw new RangeError(`${dir} exists: choose another model directory, or pass --overwrite`);
  }
  const { header, arrays } = fittedClustersToParts(model);
  const shapes: Record<string, number[]> = { points: [model.n, model.d] };
  const files: Record<string, { bytes: number; sha256: string }> = {};
  const blobs: [string, Uint8Array][] = [];
  for (const [name, file] of Object.entries(FILES)) {
    const data = arrays[name as keyof FittedClustersArrays];
    if (data === undefined) continue;
    const bytes = encodeNpy(data, shapes[name] ?? [data.length]);
    files[file] = { bytes: bytes.length, sha256: await sha256(bytes) };
    blobs.push([file, bytes]);
  }
  const json = JSON.stringify({ ...header, files }, null, 2) + "\n";
  blobs.push([MODEL_FILE, new TextEncoder().encode(json)]);
  const [parent, base] = split(dir);
  await Deno.mkdir(parent, { recursive: true });
  const tag = crypto.randomUUID().slice(0, 8);
  const tmp = `${parent}/.${base}.tmp-${tag}`, old = `${parent}/.${base}.old-${tag}`;
  await Deno.mkdir(tmp);
  try {
    for (const [file, bytes] of blobs) await writeNewFileFlushed(`${tmp}/${file}`, bytes);
    if (await pathExists(dir)) {
      if (!options.overwrite) {
        throw new RangeError(`${dir} exists: choose another model directory, or pass --overwrite`);
      }
      await Deno.rename(dir, old);
      await Deno.rename(tmp, dir);
      await Deno.remove(old, { recursive: true });
    } else await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Reads a model directory written by {@link saveFittedClusters}, checking everything.
 *
 * @param dir The model directory.
 * @returns The model, equal bit for bit to the one saved.
 * @throws {DataFormatError} One line naming the directory or file: no such directory, no
 *   model.json, not JSON, another format or version, an array file missing, truncated or
 *   altered (size or SHA-256), or a malformed field or array.
 */
export async function loadFittedClusters(dir: string): Promise<FittedClusters> {
  const fail = (why: string) => new DataFormatError(`${why}`);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw fail(`${dir}: no such model directory`);
    throw e;
  }
  if (!info.isDirectory) throw fail(`${dir} is not a model directory (a file)`);
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/${MODEL_FILE}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw fail(`${dir} holds no ${MODEL_FILE}: not a fitted model directory`);
    }
    throw e;
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`${dir}/${MODEL_FILE} is not JSON (${(e as Error).message})`);
  }
  const at = (e: unknown) => fail(`${dir}/${MODEL_FILE}: ${(e as Error).message}`);
  try {
    checkFittedClustersFormat(header);
  } catch (e) {
    throw at(e);
  }
  const files = header.files as Record<string, { bytes?: unknown; sha256?: unknown }> | undefined;
  if (typeof files !== "object" || files === null || Array.isArray(files)) {
    throw fail(`${dir}/${MODEL_FILE} lists no array files`);
  }
  const arrays: Record<string, unknown> = {};
  for (const [name, file] of Object.entries(FILES)) {
    const entry = files[file];
    if (entry === undefined) continue;
    const path = `${dir}/${file}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw fail(
          `${path} is missing (${MODEL_FILE} lists it): the model directory is incomplete`,
        );
      }
      throw e;
    }
    if (bytes.length !== entry.bytes) {
      throw fail(
        `${path} has ${bytes.length} bytes, ${MODEL_FILE} says ${entry.bytes}: truncated?`,
      );
    }
    if (await sha256(bytes) !== entry.sha256) {
      throw fail(`${path} does not match its SHA-256 in ${MODEL_FILE}: altered or corrupt`);
    }
    arrays[name] = decodeNpy(bytes, path).data;
  }
  const unknown = Object.keys(files).filter((f) => !Object.values(FILES).includes(f));
  if (unknown.length > 0) throw fail(`${dir}/${MODEL_FILE} lists unknown files: ${unknown}`);
  const { files: _files, ...rest } = header;
  try {
    return fittedClustersFromParts(rest, arrays);
  } catch (e) {
    throw at(e);
  }
}
