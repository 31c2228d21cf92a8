/*
 * The pieces of the ONNX engine's evaluation against hand-worked numbers: the scores
 * (train-eval-scores.ts: cross-entropy, feature regression, attention maps, Hinton's term) and the
 * evaluation graph's guard against a fed parameter that the compiler folded into a constant (the
 * graph would evaluate the parameter's value of the day it was compiled).
 */
import { describe, it, expect } from 'vitest';
import { f32, i64, type ModelIr } from '../../../../src/engine/onnx/ir';
import { compileEvaluation, evalBatch } from '../../../../src/engine/onnx/train-eval';
import { attentionMaps, scoreDistill, scoreFeatures, scoreLogits } from '../../../../src/engine/onnx/train-eval-scores';
import { CompileError } from '../../../../src/engine/onnx/rules/rule';

describe('evaluation scores', () => {
  it('cross-entropy and arg-max of logits', () => {
    // Logits [0, ln 3]: softmax [1/4, 3/4].
    const z = Float32Array.of(0, Math.log(3), 0, Math.log(3));
    const r = scoreLogits(z, Int32Array.of(0, 1), 2);
    expect(r.lossSum).toBeCloseTo(Math.log(4) + Math.log(4 / 3), 6);
    expect(r.correct).toBe(1);
  });

  it('the feature loss: scale times the mean squared difference, times the images', () => {
    expect(scoreFeatures(Float32Array.of(1, 2, 0, 0), new Float32Array(4), { scale: 0.5, n: 2 })).toBeCloseTo(
      0.5 * (5 / 4) * 2,
      10
    );
  });

  it('attention maps: channel mean of squares, unit norm per image', () => {
    // One image, channels [3, 0] and [4, 0] over two pixels: means of squares [12.5, 0] -> [1, 0].
    expect(Array.from(attentionMaps(Float32Array.of(3, 0, 4, 0), { n: 1, pixels: 2 }))).toEqual([1, 0]);
    // Pixels [1, 1] (both channels): [1, 1] / sqrt(2).
    const q = attentionMaps(Float32Array.of(1, 1, 1, 1), { n: 1, pixels: 2 });
    q.forEach((v) => expect(v).toBeCloseTo(Math.SQRT1_2, 12));
  });

  it("Hinton's term: alpha T^2 KL(p_T || p_S) + (1 - alpha) CE", () => {
    // T = 2; teacher logits [0, 2 ln 3] give p_T = [1/4, 3/4]; the student's [0, 0] give [1/2, 1/2].
    const kl = 0.25 * Math.log(0.25 / 0.5) + 0.75 * Math.log(0.75 / 0.5);
    const r = scoreDistill(
      { numClasses: 2, featureScale: null, logits: { temperature: 2, alpha: 0.5 }, attentionBeta: null },
      {
        labels: Int32Array.of(0),
        student: { logits: Float32Array.of(0, 0), feature: null, attention: [] },
        teacher: { logits: Float32Array.of(0, 2 * Math.log(3)), feature: null, attention: [] }
      }
    );
    expect(r.lossSum).toBeCloseTo(0.5 * 4 * kl + 0.5 * Math.log(2), 6);
  });
});

describe('the evaluation graph', () => {
  it("runs TF.js's 128 images at a time up to 64 px, fewer above", () => {
    expect([16, 64, 96, 128, 224, 512].map(evalBatch)).toEqual([128, 128, 56, 32, 10, 2]);
  });

  /** x [3, 2, 2] flattened, times s * 2, where s is a one-value parameter (the compiler folds s * 2). */
  const ir = (): ModelIr => ({
    source: 'folded',
    input: { name: 'x', shape: [3, 2, 2] },
    nodes: [
      { op: 'Reshape', name: 'flat', inputs: ['x', 'flat_shape'], outputs: ['x_flat'], attrs: {} },
      { op: 'Mul', name: 'double', inputs: ['s', 'two'], outputs: ['s2'], attrs: {} },
      { op: 'Mul', name: 'out', inputs: ['x_flat', 's2'], outputs: ['out'], attrs: {} }
    ],
    initializers: new Map([
      ['s', f32([1], [0.5])],
      ['two', f32([1], [2])],
      ['flat_shape', i64([-1, 12])]
    ]),
    tapNames: ['out'],
    tapValues: new Map([['out', 'out']])
  });

  it('refuses a fed parameter folded into a constant, and takes it as a constant when not fed', () => {
    expect(() => compileEvaluation({ model: ir(), output: 'out', fed: ['s'], imageSize: 2 })).toThrow(CompileError);
    expect(() => compileEvaluation({ model: ir(), output: 'out', fed: ['s'], imageSize: 2 })).toThrow(/'s' was folded/);
    const g = compileEvaluation({ model: ir(), output: 'out', fed: [], imageSize: 2 });
    expect(g.fed).toEqual([]);
    expect(g.graph.inputs.map((i) => i.name)).toEqual(['kd_x']);
  });
});
