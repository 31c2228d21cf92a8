/*
 * The reference CNN of the benchmarks (issue: foundation, bench): conv3x3 3->16, 16->32, 32->64,
 * each ReLU + maxpool 2, flatten, dense 10. Fixed so that numbers compare across versions.
 */
import * as tf from '@tensorflow/tfjs';

export function referenceCnn(px: number, seed = 1): tf.Sequential {
  const model = tf.sequential({ name: `reference_${px}` });
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  model.add(
    tf.layers.conv2d({
      inputShape: [px, px, 3],
      filters: 16,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
      name: 'conv1'
    })
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  model.add(
    tf.layers.conv2d({
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
      name: 'conv2'
    })
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  model.add(
    tf.layers.conv2d({
      filters: 64,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(),
      name: 'conv'
    })
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool3' }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ units: 10, kernelInitializer: init(), name: 'fc3' }));
  return model;
}
