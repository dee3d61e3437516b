// Our Sum/Mean gradients (src/model/grads.ts) against analytic values and against tfjs-core's own
// formulation (dy · ones / n), on the cpu backend.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { forceBroadcastGrads, meanGrad, sumGrad } from '../src/model/backends/grads.ts';

await setupBackend('cpu');

function reference(kind: 'sum' | 'mean', x: tf.Tensor, dy: tf.Tensor, axis: number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  let n = 1;
  for (const a of axes) {
    n *= x.shape[a]!;
    shape[a] = 1;
  }
  const full = tf.mul(tf.reshape(dy, shape), tf.ones(x.shape));
  return kind === 'sum' ? full : tf.div(full, n);
}

describe('Sum/Mean gradients without host-side ones', () => {
  it('are the registered gradients', () => {
    expect(tf.getGradient(tf.Sum)).toBe(sumGrad);
    expect(tf.getGradient(tf.Mean)).toBe(meanGrad);
  });

  const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [5], axis: [0], keepDims: false },
    { shape: [3, 7], axis: [1], keepDims: false },
    { shape: [3, 7], axis: [0], keepDims: true },
    { shape: [2, 3, 4], axis: [0, 2], keepDims: false },
    { shape: [2, 3, 4], axis: [-1], keepDims: true },
    { shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false },
  ];
  for (const [kind, bc] of [['sum', true], ['mean', true], ['sum', false], ['mean', false]] as const) {
    for (const c of cases) {
      it(`${kind} (${bc ? 'broadcast' : 'ones'}) over ${JSON.stringify(c.axis)} of ${JSON.stringify(c.shape)}${c.keepDims ? ' (keepDims)' : ''}`, () => {
        forceBroadcastGrads(bc);
        const x = tf.randomNormal(c.shape, 0, 1, 'float32', 3);
        const reduced = kind === 'sum' ? tf.sum(x, c.axis, c.keepDims) : tf.mean(x, c.axis, c.keepDims);
        // a non-uniform upstream gradient, so broadcasting along the wrong axis would show
        const dy = tf.randomNormal(reduced.shape, 0, 1, 'float32', 4);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(kind === 'sum' ? tf.sum(t, c.axis, c.keepDims) : tf.mean(t, c.axis, c.keepDims), dy)))(x);
        const want = reference(kind, x, dy, c.axis);
        expect(g.shape).toEqual(x.shape);
        expect(Array.from(g.dataSync())).toEqual(Array.from(want.dataSync()));
        tf.dispose([x, reduced, dy, g, want]);
        forceBroadcastGrads(null);
      });
    }
  }
});
