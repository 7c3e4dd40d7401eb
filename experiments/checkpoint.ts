/**
 * Training checkpoints: model weights + optimizer state (Adam moments, iteration count and
 * bias-correction accumulators) + step + PRNG state + free-form extra state.
 *
 * Layout: `<dir>/step-<10-digit step>/{manifest.json, weights.bin}`. A checkpoint is written
 * into a hidden temporary directory beside it, flushed, then renamed into place, so a
 * `step-*` directory is always complete; the last `keep` (default 2) are kept, so the previous
 * good one survives any failure while the next is written.
 *
 * Loading validates everything (manifest against an io-ts codec, file length, checksum,
 * every byte range and shape against the model) BEFORE touching the model, so a corrupt or
 * mismatched checkpoint is a {@link CheckpointError} naming the file, not a crash deep inside
 * tfjs and not a half-restored model.
 *
 * Optimizer state is positional (tfjs's Adam keeps its moments by variable index): train
 * with `optimizer.minimize(f, true, trainableVariables(model))` so the order is the model's.
 *
 * @module
 */
import { tf } from "../tf/deps/tfjs.ts";
import { E, PathReporter, pipe, t } from "../lib/deps/fp.ts";
import { writeBytesAtomic, writeJsonAtomic } from "./io.ts";

/** A checkpoint that cannot be read or does not fit the model/optimizer. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

const TensorEntry = t.type({
  name: t.string,
  shape: t.array(t.number),
  offset: t.number,
  byteLength: t.number,
});
type TensorEntry = t.TypeOf<typeof TensorEntry>;

const ManifestCodec = t.type({
  format: t.literal("spanclust-checkpoint"),
  version: t.literal(1),
  step: t.number,
  createdAt: t.string,
  weightsFile: t.literal("weights.bin"),
  totalBytes: t.number,
  /** FNV-1a 32-bit hash of weights.bin, hex. */
  checksum: t.string,
  model: t.type({ name: t.string, weights: t.array(TensorEntry) }),
  optimizer: t.type({
    className: t.string,
    config: t.UnknownRecord,
    iterations: t.number,
    /** Adam's β₁ᵗ⁺¹, β₂ᵗ⁺¹ accumulators exactly as held (setWeights would recompute them). */
    accBeta: t.union([t.null, t.tuple([t.number, t.number])]),
    variables: t.array(TensorEntry),
  }),
  rngState: t.union([t.null, t.array(t.number)]),
  extra: t.UnknownRecord,
});
/** The validated manifest.json of a checkpoint. */
export type Manifest = t.TypeOf<typeof ManifestCodec>;

/** What a checkpoint carries besides tensors. */
export interface CheckpointState {
  /** Number of finished training steps. */
  readonly step: number;
  /** State of the run's PRNG (e.g. pure-rand `getState()`), or null. */
  readonly rngState: readonly number[] | null;
  /** Anything else JSON-serialisable (best validation error, patience counter, …). */
  readonly extra: Readonly<Record<string, unknown>>;
}

/**
 * Sets Adam's learning rate for the next update. tfjs's AdamOptimizer reads its public
 * `learningRate` field at every `applyGradients`, and the field is not part of the saved
 * optimizer state (weights), so setting it per step is safe across checkpoints.
 *
 * @param optimizer The optimizer (Adam).
 * @param lr The learning rate of the next update.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/** The trainable variables of a model in the model's order (pass to `minimize`). */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function stepDirName(step: number): string {
  return `step-${String(step).padStart(10, "0")}`;
}

/** Private fields of tfjs's AdamOptimizer that setWeights does not restore bit-exactly. */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * Saves a checkpoint atomically and prunes old ones.
 *
 * @param dir Checkpoint directory (created).
 * @param model Model whose `weights` (trainable and not) are saved.
 * @param optimizer Its optimizer (Adam or any tfjs optimizer).
 * @param state Step, PRNG state, extra JSON state.
 * @param opts `keep`: how many newest checkpoints to keep (≥ 1, default 2).
 * @returns Path of the new checkpoint directory.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: CheckpointState,
  opts: { keep?: number } = {},
): Promise<string> {
  const keep = Math.max(1, opts.keep ?? 2);
  await Deno.mkdir(dir, { recursive: true });
  const modelTensors = model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
  const named = await optimizer.getWeights();
  const iterations = named.length > 0 ? (await named[0]!.tensor.data())[0]! : 0;
  const optTensors = named.slice(1);
  const adam = optimizer as unknown as AdamInternals;
  const accBeta: [number, number] | null = adam.accBeta1 && adam.accBeta2
    ? [(await adam.accBeta1.data())[0]!, (await adam.accBeta2.data())[0]!]
    : null;

  const chunks: Uint8Array[] = [];
  let offset = 0;
  const entries = async (list: { name: string; tensor: tf.Tensor }[]) => {
    const out: TensorEntry[] = [];
    for (const { name, tensor } of list) {
      const data = new Float32Array(await tensor.data());
      const bytes = new Uint8Array(data.buffer);
      out.push({ name, shape: [...tensor.shape], offset, byteLength: bytes.length });
      chunks.push(bytes);
      offset += bytes.length;
    }
    return out;
  };
  const weights = await entries(modelTensors);
  const variables = await entries(optTensors);
  if (named.length > 0) named[0]!.tensor.dispose(); // saveIterations() made a fresh scalar
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.length;
  }
  const manifest: Manifest = {
    format: "spanclust-checkpoint",
    version: 1,
    step: state.step,
    createdAt: new Date().toISOString(),
    weightsFile: "weights.bin",
    totalBytes: blob.length,
    checksum: fnv1a(blob),
    model: { name: model.name, weights },
    optimizer: {
      className: optimizer.getClassName(),
      config: optimizer.getConfig() as Record<string, unknown>,
      iterations,
      accBeta,
      variables,
    },
    rngState: state.rngState === null ? null : [...state.rngState],
    extra: { ...state.extra },
  };

  // Not Deno.makeTempDir (mode 0700): created with 0777, the directory gets the umask.
  const tmp = `${dir}/.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { mode: 0o777 });
  const final = `${dir}/${stepDirName(state.step)}`;
  try {
    await writeBytesAtomic(`${tmp}/weights.bin`, blob);
    await writeJsonAtomic(`${tmp}/manifest.json`, manifest); // written last: marks completion
    // rename(2) cannot replace a non-empty directory: move an old same-step one aside first.
    const trash = `${dir}/.old-${stepDirName(state.step)}-${crypto.randomUUID()}`;
    const replaced = await Deno.rename(final, trash).then(() => true, () => false);
    await Deno.rename(tmp, final);
    if (replaced) await Deno.remove(trash, { recursive: true });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  const all = await listCheckpoints(dir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    await Deno.remove(old.path, { recursive: true });
  }
  return final;
}

/**
 * The checkpoints in a directory, oldest first (a missing directory has none).
 *
 * @param dir Checkpoint directory.
 * @returns Step and path of each `step-*` directory.
 */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  const out: { step: number; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^step-(\d+)$/.exec(e.name);
      if (e.isDirectory && m) out.push({ step: Number(m[1]), path: `${dir}/${e.name}` });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * Path of the newest checkpoint in a directory, or null.
 *
 * @param dir Checkpoint directory.
 * @returns The path or null.
 */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  return (await listCheckpoints(dir)).at(-1)?.path ?? null;
}

/**
 * Reads and validates a checkpoint's manifest and weights file (no tensors created).
 *
 * @param path Checkpoint directory.
 * @returns The manifest and the weights bytes.
 * @throws {CheckpointError} If a file is missing, the manifest is invalid, or the weights
 *   file is truncated, too long, or fails its checksum.
 */
export async function readCheckpoint(
  path: string,
): Promise<{ manifest: Manifest; bytes: Uint8Array }> {
  const mPath = `${path}/manifest.json`;
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(mPath));
  } catch (e) {
    throw new CheckpointError(
      `Corrupt checkpoint ${path}: cannot read ${mPath} (${(e as Error).message})`,
    );
  }
  const manifest = pipe(
    ManifestCodec.decode(json),
    E.getOrElseW(() => {
      const why = PathReporter.report(ManifestCodec.decode(json)).slice(0, 3).join("; ");
      throw new CheckpointError(`Corrupt checkpoint manifest ${mPath}: ${why}`);
    }),
  );
  const wPath = `${path}/${manifest.weightsFile}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(wPath);
  } catch (e) {
    throw new CheckpointError(`Corrupt checkpoint ${path}: ${(e as Error).message}`);
  }
  if (bytes.length !== manifest.totalBytes) {
    throw new CheckpointError(
      `Corrupt checkpoint ${wPath}: ${bytes.length} bytes, manifest says ` +
        `${manifest.totalBytes} (${bytes.length < manifest.totalBytes ? "truncated" : "too long"})`,
    );
  }
  const sum = fnv1a(bytes);
  if (sum !== manifest.checksum) {
    throw new CheckpointError(
      `Corrupt checkpoint ${wPath}: checksum ${sum} does not match the manifest's ` +
        `${manifest.checksum}`,
    );
  }
  for (const e of [...manifest.model.weights, ...manifest.optimizer.variables]) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.byteLength !== 4 * size || e.offset < 0 || e.offset + e.byteLength > bytes.length) {
      throw new CheckpointError(
        `Corrupt checkpoint manifest ${mPath}: tensor ${e.name} of shape ` +
          `[${e.shape.join(", ")}] has byte range [${e.offset}, ${e.offset + e.byteLength}) ` +
          `inconsistent with float32 data of ${bytes.length} bytes`,
      );
    }
  }
  return { manifest, bytes };
}

const sameShape = (a: readonly (number | null)[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function tensorOf(bytes: Uint8Array, e: TensorEntry): tf.Tensor {
  const data = new Float32Array(bytes.buffer.slice(
    bytes.byteOffset + e.offset,
    bytes.byteOffset + e.offset + e.byteLength,
  ));
  return tf.tensor(data, e.shape, "float32");
}

/**
 * Restores a checkpoint into a model and a FRESH optimizer of the same class (built with the
 * same config), after validating that everything fits.
 *
 * @param path Checkpoint directory (see {@link latestCheckpoint}).
 * @param model Model with the same architecture as at save time.
 * @param optimizer A new optimizer that has not taken a step yet.
 * @returns Step, PRNG state and extra state.
 * @throws {CheckpointError} If the checkpoint is corrupt or does not match the model /
 *   optimizer (count, shapes, optimizer class); the model is then left untouched.
 */
export async function loadCheckpoint(
  path: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
): Promise<CheckpointState & { manifest: Manifest }> {
  const { manifest, bytes } = await readCheckpoint(path);
  const mw = manifest.model.weights;
  if (mw.length !== model.weights.length) {
    throw new CheckpointError(
      `Checkpoint ${path} does not fit the model: it has ${mw.length} weight tensors, the ` +
        `model ${model.name} has ${model.weights.length}`,
    );
  }
  model.weights.forEach((w, i) => {
    if (!sameShape(w.shape, mw[i]!.shape)) {
      throw new CheckpointError(
        `Checkpoint ${path} does not fit the model: weight ${i} (${w.originalName}) has ` +
          `shape [${w.shape.join(", ")}], the checkpoint's ${mw[i]!.name} has ` +
          `[${mw[i]!.shape.join(", ")}]`,
      );
    }
  });
  const o = manifest.optimizer;
  if (o.className !== optimizer.getClassName()) {
    throw new CheckpointError(
      `Checkpoint ${path} holds ${o.className} optimizer state, but the run uses ` +
        `${optimizer.getClassName()}`,
    );
  }
  if (o.className === "Adam" && o.variables.length > 0) {
    const trainable = model.trainableWeights;
    if (o.variables.length !== 2 * trainable.length) {
      throw new CheckpointError(
        `Checkpoint ${path} does not fit the model: ${o.variables.length} Adam moments for ` +
          `${trainable.length} trainable tensors (expected ${2 * trainable.length})`,
      );
    }
    o.variables.forEach((v, i) => {
      const w = trainable[i % trainable.length]!;
      if (!sameShape(w.shape, v.shape)) {
        throw new CheckpointError(
          `Checkpoint ${path} does not fit the model: Adam moment ${v.name} has shape ` +
            `[${v.shape.join(", ")}], trainable weight ${w.originalName} has ` +
            `[${w.shape.join(", ")}]`,
        );
      }
    });
  }

  const weights = mw.map((e) => tensorOf(bytes, e));
  model.setWeights(weights);
  tf.dispose(weights);
  // Optimizer.setWeights wraps the tensors in new variables (sharing data), so ours can go.
  const iter = tf.scalar(o.iterations, "int32");
  const moments = o.variables.map((e) => ({ name: e.name, tensor: tensorOf(bytes, e) }));
  await optimizer.setWeights([{ name: "iter", tensor: iter }, ...moments]);
  tf.dispose([iter, ...moments.map((m) => m.tensor)]);
  const adam = optimizer as unknown as AdamInternals;
  if (o.accBeta !== null && adam.accBeta1 && adam.accBeta2) {
    // Adam.setWeights recomputes β^(t+1) with pow; restore the exact accumulated products.
    const [b1, b2] = o.accBeta;
    tf.tidy(() => {
      adam.accBeta1!.assign(tf.scalar(b1));
      adam.accBeta2!.assign(tf.scalar(b2));
    });
  }
  return { step: manifest.step, rngState: manifest.rngState, extra: manifest.extra, manifest };
}
