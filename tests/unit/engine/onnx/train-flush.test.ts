/*
 * The ONNX stepper writes the TF.js model at flush only when a step moved its weights since the last
 * flush or reload (the loop flushes at each snapshot and at each epoch's end, so the epoch's first
 * snapshot follows a flush with nothing new). What it writes is the weights the step computed: a
 * second stepper opened on the flushed model continues from them (same loss as the first one's next step).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tf } from '../../../../src/engine/tf/backend';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import { tinyBatch, tinyLabelsStage } from '../../../helpers/tiny-step';

let runtime: RuntimeChoice;
beforeAll(async () => {
  await useBackend('wasm');
  const rt = await chooseRuntime('cpu', 1);
  if ('error' in rt) throw new Error(rt.error);
  runtime = rt;
});

describe('ONNX stepper flush', () => {
  it('writes the model only after a step, and what it writes is where training continues', async () => {
    const { spec, model, dispose } = tinyLabelsStage('flush');
    let writes = 0;
    for (const v of model.trainableWeights) {
      const write = v.write.bind(v);
      v.write = (t: tf.Tensor) => {
        writes++;
        return write(t);
      };
    }
    const a = await onnxTrainEngine({ runtime }).open(spec);
    await a.flush();
    expect(writes).toBe(0);
    await a.step(tinyBatch(1));
    await a.flush();
    expect(writes).toBe(model.trainableWeights.length);
    await a.flush();
    await a.reload();
    await a.flush();
    expect(writes).toBe(model.trainableWeights.length);
    // A stepper opened on the flushed model and optimiser takes the same next step as the first one.
    const b = await onnxTrainEngine({ runtime }).open(spec);
    const next = await a.step(tinyBatch(2));
    const again = await b.step(tinyBatch(2));
    expect(Math.abs(again.loss - next.loss) / Math.abs(next.loss)).toBeLessThan(1e-6);
    a.dispose();
    b.dispose();
    dispose();
  });
});
