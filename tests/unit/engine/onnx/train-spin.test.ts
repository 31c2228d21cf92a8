/*
 * The ONNX stepper follows the spin policy: on an idle machine its 2-thread sessions spin, when
 * other processes take the cores it reopens them blocking, and training goes on from the same
 * weights and momenta (the same losses, step for step, as a stepper that never spins).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { onnxTrainEngine } from '../../../../src/engine/onnx/train-engine';
import type { CpuSample } from '../../../../src/engine/onnx/spin-policy';
import { tinyBatch, tinyLabelsStage } from '../../../helpers/tiny-step';

let runtime: RuntimeChoice;
beforeAll(async () => {
  await useBackend('wasm');
  const rt = await chooseRuntime('cpu', 2);
  if ('error' in rt) throw new Error(rt.error);
  runtime = rt;
});

describe('ONNX stepper and the spin policy', () => {
  it('spins while the machine is idle, reopens blocking under load, and trains on unchanged', async () => {
    // The test moves the machine's clock: 300 ms per look at open, then 2.5 s per step.
    const machine = { at: 0, busy: 0, others: 0 };
    let opening = true;
    const pass = (ms: number): void => {
      machine.at += ms;
      machine.busy += machine.others * ms;
    };
    const cpu = {
      sample: (): CpuSample => {
        if (opening) pass(300);
        return { at: machine.at, machineBusy: machine.busy, own: 0 };
      },
      now: () => machine.at
    };
    const a = tinyLabelsStage('spin', 7);
    const adaptive = await onnxTrainEngine({ runtime, spin: 'auto', cpu }).open(a.spec);
    opening = false;
    expect(adaptive.threadsSpin).toBe(true);
    const b = tinyLabelsStage('spin', 7);
    const blocking = await onnxTrainEngine({ runtime, spin: 'off' }).open(b.spec);
    expect(blocking.threadsSpin).toBe(false);

    const losses: [number, number][] = [];
    for (let i = 1; i <= 5; i++) {
      // From the third step on, other processes hold every core (more than this machine has).
      if (i >= 3) machine.others = 64;
      pass(2500);
      const x = await adaptive.step(tinyBatch(i));
      const y = await blocking.step(tinyBatch(i));
      losses.push([x.loss, y.loss]);
      if (i >= 3) expect(adaptive.threadsSpin).toBe(false);
      else expect(adaptive.threadsSpin).toBe(true);
    }
    for (const [x, y] of losses) expect(Math.abs(x - y) / Math.abs(y)).toBeLessThan(1e-6);
    // The steps did train: the loss moved.
    expect(losses[4][1]).not.toBeCloseTo(losses[0][1], 3);
    adaptive.dispose();
    blocking.dispose();
    a.dispose();
    b.dispose();
  });
});
