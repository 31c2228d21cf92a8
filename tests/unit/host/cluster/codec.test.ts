import { describe, it, expect } from 'vitest';
import {
  encodeResult,
  decodeResult,
  encodeSetup,
  decodeSetup,
  encodeData,
  decodeData
} from '../../../../src/host/cluster/codec';
import { taskKeys } from '../../../../src/host/cluster/coordinator';
import { tinyConfig } from '../../../helpers/tiny-config';
import type { SigmaResult } from '../../../../src/engine/knowledge/sigma';

const sigma = (over: Partial<SigmaResult>): SigmaResult => ({
  name: 'im-0',
  effective: true,
  sigmaF2: 0.123456789,
  sigma: Float32Array.from([0.1, 0.2, 1e-30, 3.4e38]),
  entropy: Float32Array.from([-1.5, Math.fround(Math.PI), 0, -0]),
  meanEntropy: -0.75,
  steps: 10,
  selectedStep: 7,
  lambda: 7,
  trajectory: [-0.1, NaN, Infinity, -Infinity],
  ...over
});

describe('cluster store objects', () => {
  it('a result travels bit for bit, NaN and infinities included', () => {
    const results = [
      sigma({}),
      sigma({ name: 'im-1', effective: false, sigma: null, entropy: null, meanEntropy: NaN, sigmaF2: 0 })
    ];
    const back = decodeResult(encodeResult({ id: 'S/epoch-1#0', results, engine: 'onnx cpu' }, 'w1'), 'k');
    expect(back.worker).toBe('w1');
    expect(back.engine).toBe('onnx cpu');
    expect(back.results).toEqual(results);
    expect(Object.is(back.results[0].entropy![3], -0)).toBe(true);
    expect(back.results[1].meanEntropy).toBeNaN();
  });

  it('the setup key is content-addressed and the images come back exactly', () => {
    const images = [{ name: 'a', seed: 3, data: Float32Array.from([1.25, -2, 1 / 3]) }];
    const one = encodeSetup(tinyConfig(), images);
    expect(one.key).toMatch(/^setup\/[0-9a-f]{32}\.json$/);
    expect(encodeSetup(tinyConfig(), images).key).toBe(one.key);
    expect(encodeSetup(tinyConfig({ seed: 4 }), images).key).not.toBe(one.key);
    const back = decodeSetup(one.bytes, 'setup');
    expect(back.images).toEqual(images);
    expect(back.config).toEqual(tinyConfig());
  });

  it('the training data travels exactly (images, labels, masks, ids, classes)', () => {
    const set = (n: number, masks: boolean) => ({
      n,
      size: 2,
      x: Float32Array.from({ length: n * 12 }, (_, i) => i / 7 - 1),
      labels: Int32Array.from({ length: n }, (_, i) => i % 3),
      ids: Array.from({ length: n }, (_, i) => `s${i}`),
      masks: masks ? Uint8Array.from({ length: n * 4 }, (_, i) => i % 2) : null
    });
    const data = { train: set(3, true), val: set(2, false), classes: ['a', 'b', 'c'] };
    const encoded = encodeData(data);
    expect(encoded.key).toMatch(/^data\/[0-9a-f]{32}\.bin$/);
    expect(decodeData(encoded.bytes, 'k')).toEqual(data);
    expect(decodeData(encodeData({ ...data, val: null }).bytes, 'k').val).toBeNull();
    expect(() => decodeData(encoded.bytes.subarray(0, encoded.bytes.length - 5), 'runs/e/data/x.bin')).toThrow(
      'runs/e/data/x.bin: cut short'
    );
  });

  it('a damaged object names its key and field', () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ id: 'x', engine: 'e', worker: 'w', results: [{}] }));
    expect(() => decodeResult(bytes, 'runs/e/results/S/epoch-0/0.json')).toThrow(
      /^runs\/e\/results\/S\/epoch-0\/0.json: field results\[0\]\.name/
    );
    expect(() => decodeResult(new TextEncoder().encode('{'), 'k')).toThrow('k: not JSON');
  });

  it('task ids map to deterministic keys', () => {
    expect(taskKeys('exp-1', 'S-1/epoch-12#3')).toEqual({
      model: 'models/S-1/epoch-12',
      result: 'results/S-1/epoch-12/3.json',
      jobId: 'exp-1.S-1.epoch-12.3'
    });
    expect(() => taskKeys('exp-1', '../x#0')).toThrow(/not <net>\/<checkpoint>#<shard>/);
  });
});
