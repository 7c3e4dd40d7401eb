/**
 * CIFAR-10 (binary version) loader, input normalisation and seeded augmentation.
 *
 * File format: each of `data_batch_1.bin` … `data_batch_5.bin` (train) and `test_batch.bin`
 * holds records of 1 label byte (0–9) followed by 3072 pixel bytes: the 1024 red values, then
 * green, then blue, each a 32×32 image row-major (i.e. CHW). The official files hold 10 000
 * records each; we accept any whole number of records so tests can write small files.
 *
 * @module
 */
import { DataFormatError, MissingDataError } from "./idx.ts";
import { prand } from "../../lib/deps/rand.ts";

/** Bytes of one image (3 × 32 × 32). */
export const CIFAR_IMAGE_BYTES = 3072;
/** Bytes of one record (label + image). */
export const CIFAR_RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
/** Train files in order, then the test file. */
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The test file. */
export const CIFAR_TEST_FILE = "test_batch.bin";
/** Default directory (relative to the working directory), as unpacked from the official tarball. */
export const DEFAULT_CIFAR_DIR = "data/cifar-10-batches-bin";

/** A CIFAR-10 split: images in the files' CHW layout, N × 3072 bytes. */
export interface CifarSet {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly n: number;
}

/** CIFAR-10 train (50 000) and test (10 000) splits. */
export interface Cifar10 {
  readonly train: CifarSet;
  readonly test: CifarSet;
  readonly dir: string;
}

/**
 * Parses the records of one CIFAR-10 binary file.
 *
 * @param bytes File contents.
 * @param file File name for messages.
 * @returns Images (CHW, N × 3072) and labels.
 * @throws {DataFormatError} If the size is not a positive whole number of 3073-byte records
 *   (truncated) or a label is outside 0–9.
 */
export function parseCifarBatch(bytes: Uint8Array, file: string): CifarSet {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new DataFormatError(
      `Truncated or malformed CIFAR-10 file ${file}: ${bytes.length} bytes is not a whole ` +
        `number of ${CIFAR_RECORD_BYTES}-byte records (1 label byte + 3072 pixel bytes)`,
    );
  }
  const n = bytes.length / CIFAR_RECORD_BYTES;
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR_RECORD_BYTES;
    const label = bytes[at]!;
    if (label > 9) {
      throw new DataFormatError(
        `Invalid label ${label} in CIFAR-10 file ${file} at record ${i}: labels are 0–9 ` +
          `(is this the binary version, not the python or CIFAR-100 one?)`,
      );
    }
    labels[i] = label;
    images.set(bytes.subarray(at + 1, at + CIFAR_RECORD_BYTES), i * CIFAR_IMAGE_BYTES);
  }
  return { images, labels, n };
}

function concat(sets: readonly CifarSet[]): CifarSet {
  const n = sets.reduce((a, s) => a + s.n, 0);
  const images = new Uint8Array(n * CIFAR_IMAGE_BYTES);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * CIFAR_IMAGE_BYTES);
    labels.set(s.labels, at);
    at += s.n;
  }
  return { images, labels, n };
}

/**
 * Loads CIFAR-10 from the binary files.
 *
 * @param opts `dataDir` (default {@link DEFAULT_CIFAR_DIR}).
 * @returns Train and test splits.
 * @throws {MissingDataError} Listing exactly which files are expected in which directory and
 *   which are missing.
 * @throws {DataFormatError} If a file is malformed.
 */
export async function loadCifar10(opts: { readonly dataDir?: string } = {}): Promise<Cifar10> {
  const dir = (opts.dataDir ?? DEFAULT_CIFAR_DIR).replace(/\/+$/, "");
  const files = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE];
  const present = await Promise.all(
    files.map((f) => Deno.stat(`${dir}/${f}`).then((s) => s.isFile, () => false)),
  );
  const missing = files.filter((_, i) => !present[i]);
  if (missing.length > 0) {
    throw new MissingDataError(
      `CIFAR-10 binary files not found in ${dir} (missing: ${missing.join(", ")}). ` +
        `Expected ${files.join(", ")} — the contents of cifar-10-binary.tar.gz ` +
        `(https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, folder ` +
        `cifar-10-batches-bin/). Put them in ${dir} or pass --data-dir <dir>.`,
    );
  }
  const parsed = await Promise.all(
    files.map(async (f) => parseCifarBatch(await Deno.readFile(`${dir}/${f}`), `${dir}/${f}`)),
  );
  return { train: concat(parsed.slice(0, 5)), test: parsed[5]!, dir };
}

/** Per-channel mean of CIFAR-10 train pixels in [0, 1] (reference code). */
export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465] as const;
/** Per-channel standard deviation (reference code). */
export const CIFAR_STD = [0.2470, 0.2435, 0.2616] as const;

/**
 * Converts CHW bytes to normalised NHWC floats: (x/255 − mean_c)/std_c.
 *
 * @param images N × 3072 bytes in the files' CHW layout (not mutated).
 * @param indices Which images, in order (default all).
 * @returns Float32Array of `indices.length` × 32 × 32 × 3 (NHWC, tfjs's layout).
 */
export function normaliseCifar(
  images: Uint8Array,
  indices?: ArrayLike<number>,
): Float32Array {
  const count = indices?.length ?? images.length / CIFAR_IMAGE_BYTES;
  const out = new Float32Array(count * CIFAR_IMAGE_BYTES);
  for (let j = 0; j < count; j++) {
    const src = (indices === undefined ? j : indices[j]!) * CIFAR_IMAGE_BYTES;
    const dst = j * CIFAR_IMAGE_BYTES;
    for (let c = 0; c < 3; c++) {
      const mean = CIFAR_MEAN[c]!, std = CIFAR_STD[c]!;
      for (let p = 0; p < 1024; p++) {
        out[dst + p * 3 + c] = (images[src + c * 1024 + p]! / 255 - mean) / std;
      }
    }
  }
  return out;
}

/**
 * Random-crop + horizontal-flip augmentation of a batch (NHWC float32): each image is padded
 * with `pad` zeros on every side (zeros in normalised units, i.e. the mean colour), a
 * `size`×`size` window is cut at a uniform random offset, and it is mirrored left–right with
 * probability 1/2 (the reference code's flip never fires; ours does). Same seed ⇒ same output.
 *
 * @param batch `n` × size × size × channels floats (not mutated).
 * @param n Number of images.
 * @param seed 32-bit seed (derive it from the run seed and step for reproducible resumes).
 * @param opts `size` (32), `channels` (3), `pad` (4), `flip` (true).
 * @returns A new augmented batch of the same shape.
 */
export function augmentBatch(
  batch: Float32Array,
  n: number,
  seed: number,
  opts: { size?: number; channels?: number; pad?: number; flip?: boolean } = {},
): Float32Array {
  const size = opts.size ?? 32, ch = opts.channels ?? 3, pad = opts.pad ?? 4;
  const flip = opts.flip ?? true;
  if (batch.length !== n * size * size * ch) {
    throw new RangeError(
      `Invalid batch length ${batch.length}: expected n × size × size × channels = ` +
        `${n} × ${size} × ${size} × ${ch} = ${n * size * size * ch}`,
    );
  }
  const rng = prand.xoroshiro128plus(seed | 0);
  const out = new Float32Array(batch.length); // zeros = padding
  const imageLen = size * size * ch;
  for (let i = 0; i < n; i++) {
    // Offset of the crop window in padded coordinates, uniform in [0, 2·pad].
    const dy = prand.unsafeUniformIntDistribution(0, 2 * pad, rng) - pad;
    const dx = prand.unsafeUniformIntDistribution(0, 2 * pad, rng) - pad;
    const mirror = flip && prand.unsafeUniformIntDistribution(0, 1, rng) === 1;
    const base = i * imageLen;
    for (let y = 0; y < size; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= size) continue;
      for (let x = 0; x < size; x++) {
        const sx = (mirror ? size - 1 - x : x) + dx;
        if (sx < 0 || sx >= size) continue;
        const src = base + (sy * size + sx) * ch, dst = base + (y * size + x) * ch;
        for (let c = 0; c < ch; c++) out[dst + c] = batch[src + c]!;
      }
    }
  }
  return out;
}
