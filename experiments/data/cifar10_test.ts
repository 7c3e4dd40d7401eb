import assert from "node:assert/strict";
import {
  augmentBatch,
  CIFAR_IMAGE_BYTES,
  CIFAR_MEAN,
  CIFAR_RECORD_BYTES,
  CIFAR_STD,
  CIFAR_TEST_FILE,
  CIFAR_TRAIN_FILES,
  loadCifar10,
  normaliseCifar,
  parseCifarBatch,
} from "./cifar10.ts";
import { DataFormatError, MissingDataError } from "./idx.ts";

/** Record i of file f: label (f + i) % 10, pixels encode (f, i, position). */
function fakeBatch(f: number, n: number): Uint8Array {
  const out = new Uint8Array(n * CIFAR_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    out[i * CIFAR_RECORD_BYTES] = (f + i) % 10;
    for (let p = 0; p < CIFAR_IMAGE_BYTES; p++) {
      out[i * CIFAR_RECORD_BYTES + 1 + p] = (f * 31 + i * 7 + p) % 256;
    }
  }
  return out;
}

Deno.test("CIFAR-10 loader", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    await t.step("without files: lists every expected file and the directory", async () => {
      await assert.rejects(loadCifar10({ dataDir: dir }), (e: Error) => {
        assert.ok(e instanceof MissingDataError);
        for (const f of [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE]) assert.ok(e.message.includes(f));
        assert.ok(e.message.includes(dir));
        assert.match(e.message, /--data-dir/);
        return true;
      });
    });

    await t.step("loads 5 train files in order and the test file", async () => {
      for (let f = 0; f < 5; f++) {
        await Deno.writeFile(`${dir}/${CIFAR_TRAIN_FILES[f]}`, fakeBatch(f + 1, 3));
      }
      await assert.rejects(loadCifar10({ dataDir: dir }), /missing: test_batch\.bin\)/);
      await Deno.writeFile(`${dir}/${CIFAR_TEST_FILE}`, fakeBatch(9, 2));
      const c = await loadCifar10({ dataDir: dir });
      assert.equal(c.train.n, 15);
      assert.equal(c.test.n, 2);
      assert.deepEqual([...c.train.labels], [1, 2, 3, 2, 3, 4, 3, 4, 5, 4, 5, 6, 5, 6, 7]);
      // Image 4 = file 2, record 1: pixel p is (2·31 + 7 + p) % 256.
      assert.equal(c.train.images[4 * CIFAR_IMAGE_BYTES + 10], (62 + 7 + 10) % 256);
    });

    await t.step("truncated file and bad label are clear errors naming the file", async () => {
      const bytes = fakeBatch(1, 2);
      assert.throws(
        () => parseCifarBatch(bytes.subarray(0, bytes.length - 1), "cut.bin"),
        (e: Error) => e instanceof DataFormatError && /cut\.bin: 6145 bytes/.test(e.message),
      );
      const bad = bytes.slice();
      bad[CIFAR_RECORD_BYTES] = 10;
      assert.throws(() => parseCifarBatch(bad, "b.bin"), /Invalid label 10 .*b\.bin at record 1/);
      await Deno.writeFile(`${dir}/${CIFAR_TEST_FILE}`, bytes.subarray(0, 100));
      await assert.rejects(loadCifar10({ dataDir: dir }), /test_batch\.bin: 100 bytes/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CIFAR-10 normalisation and augmentation", async (t) => {
  const images = fakeBatch(3, 2).filter((_, i) => i % CIFAR_RECORD_BYTES !== 0);

  await t.step("normalise: CHW bytes → NHWC (x/255 − mean)/std", () => {
    const x = normaliseCifar(images);
    assert.equal(x.length, 2 * 3072);
    // Image 1, pixel (row 2, col 5) = p 69, channel 2 (blue at CHW offset 2048 + 69).
    const byte = images[3072 + 2048 + 69]!;
    const got = x[3072 + 69 * 3 + 2]!;
    assert.ok(Math.abs(got - (byte / 255 - CIFAR_MEAN[2]) / CIFAR_STD[2]) < 1e-6);
    const only1 = normaliseCifar(images, [1]);
    assert.deepEqual([...only1], [...x.subarray(3072)]);
  });

  const x = normaliseCifar(images);
  await t.step("augment is deterministic per seed and does not mutate", () => {
    const copy = x.slice();
    const a = augmentBatch(x, 2, 7), b = augmentBatch(x, 2, 7);
    assert.deepEqual(a, b);
    assert.deepEqual(x, copy);
  });

  await t.step("pad 0 and no flip is the identity", () => {
    assert.deepEqual(augmentBatch(x, 2, 5, { pad: 0, flip: false }), x);
  });

  await t.step("pad 0 with flip: each image is itself or its mirror, and both occur", () => {
    let mirrored = 0, kept = 0;
    for (let seed = 0; seed < 20; seed++) {
      const a = augmentBatch(x, 2, seed, { pad: 0 });
      for (let i = 0; i < 2; i++) {
        const img = a.subarray(i * 3072, (i + 1) * 3072);
        const src = x.subarray(i * 3072, (i + 1) * 3072);
        const mirror = new Float32Array(3072);
        for (let y = 0; y < 32; y++) {
          for (let c = 0; c < 32; c++) {
            for (let k = 0; k < 3; k++) {
              mirror[(y * 32 + c) * 3 + k] = src[(y * 32 + 31 - c) * 3 + k]!;
            }
          }
        }
        if (img.every((v, j) => v === src[j])) kept++;
        else if (img.every((v, j) => v === mirror[j])) mirrored++;
        else assert.fail("neither identity nor mirror");
      }
    }
    // 40 fair coin flips: P(all heads or all tails) = 2^-39; the flip must actually fire.
    assert.ok(kept > 0 && mirrored > 0);
  });

  await t.step("crops are shifts of at most 4 pixels with zero padding", () => {
    const a = augmentBatch(x, 2, 11, { flip: false });
    // Find the shift of image 0 by matching against all 81 candidate shifts.
    let found = 0;
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        let ok = true;
        for (let y = 0; y < 32 && ok; y++) {
          for (let c = 0; c < 32 && ok; c++) {
            const sy = y + dy, sx = c + dx;
            const inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
            const want = inside ? x[(sy * 32 + sx) * 3]! : 0;
            ok = a[(y * 32 + c) * 3] === want;
          }
        }
        if (ok) found++;
      }
    }
    assert.equal(found, 1);
  });

  await t.step("rejects a wrong batch length", () => {
    assert.throws(() => augmentBatch(x, 3, 0), /Invalid batch length 6144/);
  });
});
