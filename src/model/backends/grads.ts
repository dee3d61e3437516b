// Gradients of Sum and Mean without a host-side array of ones.
//
// tfjs-core's own Sum/Mean gradients multiply dy by `tf.ones(x.shape)`, which is built as a
// JavaScript typed array and uploaded every backward pass. For the cross-entropy over logits
// ([tokens, vocab]) and every LayerNorm that is hundreds of MB per step: on the H100 it was ~60 % of
// a WebGPU training step's wall time (node --cpu-prof: makeOnesTypedArray + createBuffer).
// Broadcasting dy (one Tile kernel, on the device) gives the identical values: dy·1 = dy and
// (dy·1)/n = dy/n in float32. On wasm/cpu the ones are cheap host memory and a broadcasting
// multiply beats Tile (measured: S trained 22 % slower with Tile), so those keep tfjs's formulation.
import * as tf from '@tensorflow/tfjs-core';

let forced: boolean | null = null;
/** Tests: force the broadcast (true) or the ones (false) formulation; null = by backend. */
export function forceBroadcastGrads(v: boolean | null): void {
  forced = v;
}
const broadcast = () => forced ?? tf.getBackend() === 'webgpu';

function expandedShape(x: tf.Tensor, axis: number | number[]): { shape: number[]; reduceSize: number } {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  let reduceSize = 1;
  for (const a of axes) {
    reduceSize *= x.shape[a]!;
    shape[a] = 1;
  }
  return { shape, reduceSize };
}

export const sumGrad: tf.GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as tf.Tensor[];
    const { shape } = expandedShape(x!, (attrs as unknown as tf.SumAttrs).axis);
    const d = tf.reshape(dy as tf.Tensor, shape);
    return { x: () => (broadcast() ? tf.broadcastTo(tf.cast(d, 'float32'), x!.shape) : tf.mul(d, tf.ones(x!.shape, 'float32'))) };
  },
};

export const meanGrad: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as tf.Tensor[];
    const { shape, reduceSize } = expandedShape(x!, (attrs as unknown as tf.MeanAttrs).axis);
    const d = tf.reshape(dy as tf.Tensor, shape);
    return { x: () => (broadcast() ? tf.broadcastTo(tf.div(d, reduceSize), x!.shape) : tf.div(tf.mul(d, tf.ones(x!.shape, 'float32')), reduceSize)) };
  },
};

/** Install these over tfjs's own; after `@tensorflow/tfjs` (which registers every gradient) loads. */
export function registerGradients(): void {
  tf.registerGradient(sumGrad);
  tf.registerGradient(meanGrad);
}
