/*
 * The engines in words: what a new run trains and quantifies on (from the configuration's
 * trainEngine, engine, device and workers) and what a stage's recorded engine note says.
 */
import { describe, expect, it } from 'vitest';
import { quantificationWords, stageEngineWords, trainingWords } from '../../../../src/renderer/src/utils/engine-words';

describe('engine words', () => {
  it('says what a new run trains on for each trainEngine', () => {
    expect(trainingWords({ trainEngine: 'auto', device: 'cpu', tfjsBackend: 'wasm' })).toBe(
      'ONNX Runtime (CPU), else TF.js (wasm)'
    );
    expect(trainingWords({ trainEngine: 'onnx', device: 'gpu', tfjsBackend: 'wasm' })).toBe(
      'ONNX Runtime (GPU, else CPU)'
    );
    expect(trainingWords({ trainEngine: 'tfjs', device: 'cpu', tfjsBackend: 'webgpu' })).toBe('TF.js (WebGPU)');
  });

  it('says what a new run quantifies on', () => {
    expect(quantificationWords({ engine: 'auto', device: 'cpu', workers: 2 })).toBe('ONNX Runtime (CPU, 2 workers)');
    expect(quantificationWords({ engine: 'onnx', device: 'cpu', workers: 1 })).toBe('ONNX Runtime (CPU, 1 worker)');
    expect(quantificationWords({ engine: 'tfjs', device: 'cpu', workers: 3 })).toBe('TF.js (3 workers)');
  });

  it("reads a stage's recorded engine note", () => {
    expect(stageEngineWords('onnx cpu — 2 threads')).toEqual({ engine: 'ONNX Runtime (cpu, 2 threads)', why: null });
    expect(stageEngineWords('tfjs (wasm) — onnx unavailable: layer noise (GaussianNoise)')).toEqual({
      engine: 'TF.js (wasm)',
      why: 'onnx unavailable: layer noise (GaussianNoise)'
    });
    expect(stageEngineWords('tfjs (compute page)')).toEqual({ engine: 'TF.js (compute page)', why: null });
    expect(stageEngineWords('something else')).toEqual({ engine: 'something else', why: null });
  });
});
