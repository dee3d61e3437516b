// Two replicas (this thread + one worker thread) must produce the full-batch gradient.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { GPT } from '../src/model/gpt.ts';
import { DataParallel, getLoss, shardBatch, type Batch } from '../src/train/data-parallel.ts';

const cfg = { vocabSize: 40, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 16, seed: 3 };
const B = 5; // odd: shards of 3 and 2 rows
const T = 12;
let s = 99;
const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const batch: Batch = {
  ids: { data: Int32Array.from({ length: B * T }, () => Math.floor(rnd() * 40)), shape: [B, T], dtype: 'int32' },
  targets: { data: Int32Array.from({ length: B * T }, () => Math.floor(rnd() * 40)), shape: [B, T], dtype: 'int32' },
  // uneven masks: shard weights differ, so a plain mean of shard gradients would be wrong
  mask: { data: Float32Array.from({ length: B * T }, (_, i) => (i < 3 * T ? (i % T < 9 ? 0 : 1) : 1)), shape: [B, T], dtype: 'float32' },
};

let dp: DataParallel | null = null;
afterAll(async () => {
  await dp?.close();
});

describe('DataParallel', () => {
  it('shards rows of every input', () => {
    const sh = shardBatch(batch, 3, 5);
    expect(sh.ids!.shape).toEqual([2, T]);
    expect([...sh.mask!.data]).toEqual([...batch.mask!.data.slice(3 * T)]);
  });

  it('2-replica averaged gradients equal single-process full-batch gradients', async () => {
    await setupBackend('cpu');
    const model = new GPT(cfg);
    const params = model.namedWeights();
    // reference: the whole batch in this thread
    const spec = getLoss('lm');
    const vars = [...params.values()];
    const ref = tf.variableGrads(
      () =>
        spec.loss(model, {
          ids: tf.tensor(batch.ids!.data, batch.ids!.shape, 'int32'),
          targets: tf.tensor(batch.targets!.data, batch.targets!.shape, 'int32'),
          mask: tf.tensor(batch.mask!.data, batch.mask!.shape, 'float32'),
        }),
      vars,
    );
    const refLoss = ref.value.dataSync()[0]!;

    dp = await DataParallel.create(model, { loss: 'lm', config: cfg, replicas: 2, backend: 'cpu' });
    expect(dp.replicas).toBe(2);
    // perturb the weights first: the worker must use the weights it is sent, not its own init
    tf.tidy(() => params.get('h.0.mlp.fc.weight')!.assign(tf.add(params.get('h.0.mlp.fc.weight')!, 0)));
    const got = await dp.grads(batch);
    expect(Math.abs(got.loss - refLoss)).toBeLessThanOrEqual(1e-5);
    let worst = 0;
    for (const [name, v] of params) {
      const a = ref.grads[v.name]!.dataSync();
      const b = got.grads.get(name)!.dataSync();
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
    expect(worst).toBeLessThanOrEqual(1e-4);
    // non-trivial gradients
    expect(Math.max(...got.grads.get('wte')!.dataSync().map(Math.abs))).toBeGreaterThan(1e-4);

    // a second step after changing the weights still matches (weights are re-sent)
    tf.tidy(() => params.get('wte')!.assign(tf.mul(params.get('wte')!, 1.5)));
    const ref2 = tf.variableGrads(
      () =>
        spec.loss(model, {
          ids: tf.tensor(batch.ids!.data, batch.ids!.shape, 'int32'),
          targets: tf.tensor(batch.targets!.data, batch.targets!.shape, 'int32'),
          mask: tf.tensor(batch.mask!.data, batch.mask!.shape, 'float32'),
        }),
      vars,
    );
    const got2 = await dp.grads(batch);
    expect(Math.abs(got2.loss - ref2.value.dataSync()[0]!)).toBeLessThanOrEqual(1e-5);
    const a = ref2.grads[params.get('wte')!.name]!.dataSync();
    const b = got2.grads.get('wte')!.dataSync();
    let w2 = 0;
    for (let i = 0; i < a.length; i++) w2 = Math.max(w2, Math.abs(a[i]! - b[i]!));
    expect(w2).toBeLessThanOrEqual(1e-4);
  });
});
