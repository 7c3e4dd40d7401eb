/**
 * A run's saved embeddings of one split: two `.npy` files (NumPy reads them with `numpy.load`)
 * and a small JSON header that says what they hold. Written by exp:mnist's data-set-level
 * evaluation (`mnist/dataset_level.ts`) for the test split and the training split, read by
 * `scripts/transductive_mnist.ts --embeddings <run>` and by the fitted-clustering calibration.
 * No tfjs here, so the reader loads none.
 *
 * Files in the run directory, each written atomically and the header last, so that a header
 * present means the arrays it describes are complete (`<split>` is `test` or `train`):
 * - `<split>_embeddings.npy`: float32, shape (rows, cols), row i = image i of the split;
 * - `<split>_labels.npy`: uint8, shape (rows,);
 * - `<split>_embeddings.json`: {@link EmbeddingsHeader}.
 *
 * @module
 */
import { E, PathReporter, pipe, t } from "../lib/deps/fp.ts";
import { DataFormatError } from "./data/idx.ts";
import { readNpy, writeNpyAtomic } from "./data/npy.ts";
import { writeJsonAtomic } from "./io.ts";

/** The splits whose embeddings a run saves. */
export type EmbeddingsSplit = "test" | "train";

/** File names of a split's saved embeddings, in the run directory. */
export interface EmbeddingsFiles {
  readonly embeddings: string;
  readonly labels: string;
  readonly header: string;
}

/**
 * File names of a split's saved embeddings.
 *
 * @param split The split.
 * @returns `<split>_embeddings.npy`, `<split>_labels.npy`, `<split>_embeddings.json`.
 */
export function embeddingsFiles(split: EmbeddingsSplit): EmbeddingsFiles {
  return {
    embeddings: `${split}_embeddings.npy`,
    labels: `${split}_labels.npy`,
    header: `${split}_embeddings.json`,
  };
}

/** File names of the saved test embeddings, in the run directory. */
export const EMBEDDINGS_FILES: EmbeddingsFiles = embeddingsFiles("test");

/** File names of the saved training-split embeddings, in the run directory. */
export const TRAIN_EMBEDDINGS_FILES: EmbeddingsFiles = embeddingsFiles("train");

const count = new t.Type<number, number, unknown>(
  "non-negative integer",
  (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0,
  (
    u,
    c,
  ) => (typeof u === "number" && Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  (a) => a,
);

/** io-ts codec of `test_embeddings.json`. */
export const EmbeddingsHeaderCodec = t.type({
  /** Data set name (`mnist`, `fashion`, `cifar10`). */
  dataset: t.string,
  split: t.union([t.literal("test"), t.literal("train")]),
  /** Rows: images 0 … rows − 1 of the split, in order. */
  rows: count,
  /** Embedding dimension. */
  cols: count,
  dtype: t.literal("float32"),
  /** The two `.npy` files, relative to the run directory. */
  embeddings: t.string,
  labels: t.string,
  numClasses: count,
  /** The training step whose weights embedded the images (the selected checkpoint). */
  step: t.number,
});

/** `<split>_embeddings.json`: what the two `.npy` files hold. */
export type EmbeddingsHeader = t.TypeOf<typeof EmbeddingsHeaderCodec>;

/** Saved embeddings read back: float32 rows, labels and the header. */
export interface SavedEmbeddings {
  readonly header: EmbeddingsHeader;
  /** Row-major rows × cols. */
  readonly data: Float32Array;
  readonly labels: Uint8Array;
}

/**
 * Writes a run's embeddings of one split (module doc).
 *
 * @param dir The run directory.
 * @param data Row-major `rows × cols` float32 embeddings.
 * @param labels The `rows` labels.
 * @param meta Data set, number of classes and the step of the weights.
 * @param split The split (file names and header); default `test`.
 * @returns The header written.
 * @throws {RangeError} If `data` or `labels` does not have the header's length.
 */
export async function writeEmbeddings(
  dir: string,
  data: Float32Array,
  labels: Uint8Array,
  meta: { readonly dataset: string; readonly numClasses: number; readonly step: number },
  split: EmbeddingsSplit = "test",
): Promise<EmbeddingsHeader> {
  const files = embeddingsFiles(split);
  const rows = labels.length, cols = rows > 0 ? data.length / rows : 0;
  if (!Number.isInteger(cols) || cols < 1) {
    throw new RangeError(
      `Invalid embeddings: ${data.length} values are not a whole number of rows for ${rows} labels`,
    );
  }
  await writeNpyAtomic(`${dir}/${files.embeddings}`, data, [rows, cols]);
  await writeNpyAtomic(`${dir}/${files.labels}`, labels, [rows]);
  const header: EmbeddingsHeader = {
    dataset: meta.dataset,
    split,
    rows,
    cols,
    dtype: "float32",
    embeddings: files.embeddings,
    labels: files.labels,
    numClasses: meta.numClasses,
    step: meta.step,
  };
  await writeJsonAtomic(`${dir}/${files.header}`, header);
  return header;
}

/**
 * Reads a run's embeddings of one split and checks them against their header.
 *
 * @param dir The run directory.
 * @param split The split; default `test`.
 * @returns The header, the embeddings and the labels.
 * @throws {Deno.errors.NotFound} If the run has no `<split>_embeddings.json` (a run without the
 * data-set-level evaluation, or from before it existed).
 * @throws {DataFormatError} Naming the file, if the header does not decode or an array's dtype
 * or shape disagrees with it.
 */
export async function readEmbeddings(
  dir: string,
  split: EmbeddingsSplit = "test",
): Promise<SavedEmbeddings> {
  const headerPath = `${dir}/${embeddingsFiles(split).header}`;
  const text = await Deno.readTextFile(headerPath);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataFormatError(`${headerPath}: not JSON (${(e as Error).message})`);
  }
  const header = pipe(
    EmbeddingsHeaderCodec.decode(json),
    E.getOrElseW((errors) => {
      const why = PathReporter.report(E.left(errors)).slice(0, 3).join("; ");
      throw new DataFormatError(`${headerPath}: not an embeddings header: ${why}`);
    }),
  );
  if (header.split !== split) {
    throw new DataFormatError(`${headerPath}: holds the ${header.split} split, not ${split}`);
  }
  const x = await readNpy(`${dir}/${header.embeddings}`);
  if (
    !(x.data instanceof Float32Array) || x.shape.length !== 2 || x.shape[0] !== header.rows ||
    x.shape[1] !== header.cols
  ) {
    throw new DataFormatError(
      `${dir}/${header.embeddings}: ${x.data.constructor.name} of shape (${
        x.shape.join(", ")
      }), but ${headerPath} says float32 (${header.rows}, ${header.cols})`,
    );
  }
  const y = await readNpy(`${dir}/${header.labels}`);
  if (!(y.data instanceof Uint8Array) || y.shape.length !== 1 || y.shape[0] !== header.rows) {
    throw new DataFormatError(
      `${dir}/${header.labels}: ${y.data.constructor.name} of shape (${
        y.shape.join(", ")
      }), but ${headerPath} says uint8 (${header.rows})`,
    );
  }
  return { header, data: x.data, labels: y.data };
}
