import assert from "node:assert/strict";
import { loadDataset } from "./image_dataset.ts";
import { augmentOf } from "./main.ts";
import { AUGMENT_SHIFT_PIXELS } from "./flags.ts";

const SIZE = 28;
const IMAGES = Int32Array.from({ length: 32 }, (_, i) => 3 * i + 1);

/** Image j of a batch, shifted by (dy, dx) and optionally mirrored, zero outside: the oracle. */
function transformed(x: Float32Array, j: number, dy: number, dx: number, mirror: boolean) {
  const out = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let c = 0; c < SIZE; c++) {
      const sy = y + dy, sx = (mirror ? SIZE - 1 - c : c) + dx;
      if (sy >= 0 && sy < SIZE && sx >= 0 && sx < SIZE) {
        out[y * SIZE + c] = x[j * SIZE * SIZE + sy * SIZE + sx]!;
      }
    }
  }
  return out;
}

/** Which (dy, dx, mirror) among those allowed turn image j of `plain` into image j of `aug`. */
function explain(plain: Float32Array, aug: Float32Array, j: number, shift: number, flip: boolean) {
  const got = aug.subarray(j * SIZE * SIZE, (j + 1) * SIZE * SIZE);
  const found: string[] = [];
  for (let dy = -shift; dy <= shift; dy++) {
    for (let dx = -shift; dx <= shift; dx++) {
      for (const mirror of flip ? [false, true] : [false]) {
        const want = transformed(plain, j, dy, dx, mirror);
        if (want.every((v, i) => v === got[i])) found.push(`${dy},${dx},${mirror}`);
      }
    }
  }
  return found;
}

Deno.test("augmentOf: --augment names the shifts and flips (none and absent: no augmentation)", () => {
  assert.equal(augmentOf(undefined), undefined);
  assert.equal(augmentOf("none"), undefined);
  assert.deepEqual(augmentOf("flip"), { shift: 0, flip: true });
  assert.deepEqual(augmentOf("shift"), { shift: AUGMENT_SHIFT_PIXELS, flip: false });
  assert.deepEqual(augmentOf("flip-shift"), { shift: AUGMENT_SHIFT_PIXELS, flip: true });
});

Deno.test("MNIST augmentation: every image is a zero-padded shift and/or mirror of itself, seeded", async () => {
  const plainSet = await loadDataset("mnist");
  const plain = plainSet.inputs("train", IMAGES);
  // Without an augmentation, a seed changes nothing (the engine passes one when augmenting).
  assert.deepEqual(plainSet.inputs("train", IMAGES, 5), plain);

  for (const [shift, flip] of [[2, false], [0, true], [2, true]] as const) {
    const ds = await loadDataset("mnist", undefined, { shift, flip });
    assert.deepEqual(ds.inputs("train", IMAGES), plain, "no seed: the images as stored");
    assert.deepEqual(ds.inputs("test", IMAGES), plainSet.inputs("test", IMAGES));
    const aug = ds.inputs("train", IMAGES, 11);
    assert.deepEqual(ds.inputs("train", IMAGES, 11), aug, "same seed, same batch (resume)");
    assert.notDeepEqual(ds.inputs("train", IMAGES, 12), aug, "another seed, another batch");
    const kinds = new Set<string>();
    for (let j = 0; j < IMAGES.length; j++) {
      const found = explain(plain, aug, j, shift, flip);
      assert.ok(found.length > 0, `image ${j}: not a shift ≤ ${shift} / mirror of the original`);
      for (const f of found) kinds.add(f);
    }
    // 32 images all given the same transform has probability ≤ (1/2)^31: augmentation ignored
    // (or one transform per batch) fails here.
    assert.ok(kinds.size >= 2, `one transform for all 32 images: ${[...kinds]}`);
    if (flip) assert.ok([...kinds].some((k) => k.endsWith("true")), "no image mirrored");
    if (shift > 0) assert.ok([...kinds].some((k) => !k.startsWith("0,0")), "no image shifted");
  }
});
