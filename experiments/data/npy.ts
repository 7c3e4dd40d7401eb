/**
 * NumPy's `.npy` format (version 1.0 written, 1.0–3.0 read), so that arrays an experiment saves
 * open with `numpy.load` and a cross-check script (scikit-learn) needs no parser of ours.
 *
 * Layout: the magic `\x93NUMPY`, a major and a minor version byte, the header length (uint16
 * little-endian in 1.0; uint32 in 2.0 and 3.0), then an ASCII (3.0: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }` padded with spaces and ended by
 * a newline so that the data starts at a multiple of 64 bytes, then the data in C order.
 *
 * Only the little-endian dtypes the experiments use are supported (`<f4`, `<f8`, `<i4`, `|u1`),
 * in C order. Typed arrays are in the platform's byte order, so writing and reading refuse a
 * big-endian platform rather than swap silently.
 *
 * Every malformed input is a {@link DataFormatError} whose message names the file.
 *
 * @module
 */
import { DataFormatError } from "./idx.ts";
import { writeBytesAtomic } from "../io.ts";

/** The arrays `.npy` files hold here, by NumPy dtype. */
export type NpyData = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A decoded `.npy` array: row-major data and its shape (outermost first). */
export interface NpyArray {
  readonly data: NpyData;
  readonly shape: readonly number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function descrOf(data: NpyData): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int32Array) return "<i4";
  return "|u1";
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error("The .npy reader and writer need a little-endian platform");
  }
}

/**
 * Encodes an array as a version 1.0 `.npy` file.
 *
 * @param data Row-major data (float32, float64, int32 or uint8).
 * @param shape Its shape, outermost first; the product must equal `data.length`.
 * @returns The file's bytes.
 * @throws {RangeError} If a dimension is not a non-negative integer or the shape does not match
 * the data's length.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * if (bytes.length !== 128 + 24) throw new Error(); // 64-byte-aligned header, then the data
 * const { shape, data } = decodeNpy(bytes, "example.npy");
 * if (shape.join() !== "2,3" || data[5] !== 6) throw new Error();
 * ```
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  assertLittleEndian();
  for (const [i, s] of shape.entries()) {
    if (!Number.isInteger(s) || s < 0) {
      throw new RangeError(`Invalid shape[${i}] = ${s}: dimensions must be non-negative integers`);
    }
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new RangeError(
      `Invalid shape = (${
        shape.join(", ")
      }): it holds ${size} values but the data has ${data.length}`,
    );
  }
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // Pad with spaces so that 10 bytes of preamble + dict + "\n" is a multiple of 64.
  dict += " ".repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + "\n";
  const header = new TextEncoder().encode(dict);
  if (header.length > 0xffff) {
    throw new RangeError(`Invalid shape: a header of ${header.length} bytes does not fit .npy 1.0`);
  }
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  out.set(header, 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/**
 * Decodes a `.npy` file (versions 1.0–3.0, C order, dtypes `<f4`, `<f8`, `<i4`, `|u1`).
 *
 * @param bytes The file's bytes.
 * @param file The file's name, for messages.
 * @returns The data (a copy, aligned) and the shape.
 * @throws {DataFormatError} Naming the file, on a bad magic, an unsupported version, dtype or
 * Fortran order, a header that is not a dict of the three keys, or data of the wrong length.
 *
 * @example
 * ```ts
 * import { decodeNpy, encodeNpy } from "./npy.ts";
 * const { data } = decodeNpy(encodeNpy(new Uint8Array([7, 8]), [2]), "labels.npy");
 * if (!(data instanceof Uint8Array) || data[1] !== 8) throw new Error();
 * ```
 */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  assertLittleEndian();
  const bad = (why: string) => new DataFormatError(`${file}: not a supported .npy file: ${why}`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw bad("bad magic (expected \\x93NUMPY)");
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw bad(`version ${major}.${bytes[7]} (1.0–3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw bad("truncated header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + headerLen;
  if (bytes.length < start) throw bad(`truncated header (${headerLen} bytes announced)`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1")
    .decode(bytes.subarray(8 + lenBytes, start));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  }
  if (fortran === "True") throw bad("Fortran order (only C order is read)");
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw bad(`shape (${shapeText})`);
  const size = shape.reduce((a, b) => a * b, 1);
  const width = { "<f4": 4, "<f8": 8, "<i4": 4, "|u1": 1, "<u1": 1 }[descr];
  if (width === undefined) throw bad(`dtype ${descr} (read: <f4, <f8, <i4, |u1)`);
  if (bytes.length - start !== size * width) {
    throw bad(
      `shape (${shape.join(", ")}) of ${descr} needs ${size * width} data bytes, found ${
        bytes.length - start
      }`,
    );
  }
  // A copy: the data offset need not be aligned to the element size in someone else's file.
  const raw = bytes.slice(start).buffer;
  const data = descr === "<f4"
    ? new Float32Array(raw)
    : descr === "<f8"
    ? new Float64Array(raw)
    : descr === "<i4"
    ? new Int32Array(raw)
    : new Uint8Array(raw);
  return { data, shape };
}

/**
 * Writes an array as a `.npy` file atomically (`io.ts`: temp file, fsync, rename).
 *
 * @param path Target file.
 * @param data Row-major data.
 * @param shape Its shape.
 * @returns Resolves when the file is in place.
 * @throws {RangeError} As {@link encodeNpy}.
 */
export function writeNpyAtomic(
  path: string,
  data: NpyData,
  shape: readonly number[],
): Promise<void> {
  return writeBytesAtomic(path, encodeNpy(data, shape));
}

/**
 * Reads a `.npy` file.
 *
 * @param path The file.
 * @returns The data and shape.
 * @throws {DataFormatError} As {@link decodeNpy}.
 * @throws {Deno.errors.NotFound} If the file does not exist.
 */
export async function readNpy(path: string): Promise<NpyArray> {
  return decodeNpy(await Deno.readFile(path), path);
}
