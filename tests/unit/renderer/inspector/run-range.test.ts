/*
 * The Inspector's colour range is fixed over the run: the same for every slider position, spanning
 * every checkpoint of all three networks (the numbers: -3.11…-2.65 nats at epoch 15 and
 * -2.99…-2.69 at epoch 3 gave two ranges under one legend).
 */
import { describe, expect, it } from 'vitest';
import type { CheckpointMaps } from '../../../../src/common/api';
import { rangeOverMaps, runRange } from '../../../../src/renderer/src/inspector/run-range';
import type { CheckpointRef, Net } from '../../../../src/renderer/src/inspector/logic';

const map = (net: string, checkpoint: string, image1: number[] | null): CheckpointMaps => ({
  net,
  checkpoint,
  epoch: 0,
  pathLength: null,
  grid: 2,
  backgroundMean: null,
  threshold: 0.2,
  entropy: [[-9, -9, -9, -9], image1]
});

describe('the run-wide colour range', () => {
  const maps: Record<string, CheckpointMaps> = {
    'T|final': map('T', 'final', [-2.9, -2.8, -2.85, -2.7]),
    'S|epoch-3': map('S', 'epoch-3', [-2.99, -2.69, -2.8, -2.75]),
    'S|epoch-15': map('S', 'epoch-15', [-3.11, -2.65, -3, -2.9]),
    'B|epoch-3': map('B', 'epoch-3', null), // image 1 not effective there
    'B|epoch-15': map('B', 'epoch-15', [-3.05, -2.7, -2.9, -2.8])
  };
  const lists: Record<Net, CheckpointRef[]> = {
    T: [{ key: 'final', epoch: 15 }],
    S: [
      { key: 'epoch-3', epoch: 3 },
      { key: 'epoch-15', epoch: 15 }
    ],
    B: [
      { key: 'epoch-3', epoch: 3 },
      { key: 'epoch-15', epoch: 15 },
      { key: 'epoch-30', epoch: 30 } // not analysed yet: left out
    ]
  };
  const getMaps = async (n: Net, cp: string): Promise<CheckpointMaps> => {
    const m = maps[`${n}|${cp}`];
    if (!m) throw new Error('not analysed yet');
    return m;
  };

  it('spans every checkpoint of every network for the image shown, and only that image', async () => {
    expect(await runRange(getMaps, lists, 1)).toEqual({ min: -3.11, max: -2.65 });
    expect(await runRange(getMaps, lists, 0)).toEqual({ min: -9, max: -9 });
  });

  it('differs from the per-checkpoint range, which moves with the slider', () => {
    const at = (cp: string) => rangeOverMaps([maps['T|final'], maps[`S|${cp}`], maps[`B|${cp}`]], 1);
    expect(at('epoch-3')).toEqual({ min: -2.99, max: -2.69 });
    expect(at('epoch-15')).toEqual({ min: -3.11, max: -2.65 });
  });
});
