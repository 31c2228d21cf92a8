// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import {
  checkpointAt,
  checkpointsOf,
  imageCurve,
  imageOrder,
  mapSum,
  networksOf
} from '../../../../src/renderer/src/inspector/logic';
import type { CheckpointConceptsEvent } from '../../../../src/common/events';
import { metricsFixture } from '../metrics-fixture';

const live = (net: string, epoch: number): CheckpointConceptsEvent => ({
  type: 'concepts',
  net,
  epoch,
  pathLength: null,
  foreground: 1,
  background: 1,
  ratio: 0.5,
  conceptFraction: 0.1,
  images: 2
});

describe('inspector logic', () => {
  it('lists checkpoints from metrics: T only final, S and B epoch-<e>', () => {
    const m = metricsFixture();
    expect(checkpointsOf('T', m, [])).toEqual([{ key: 'final', epoch: 12 }]);
    expect(checkpointsOf('S', m, []).map((c) => c.key)).toEqual(['epoch-0', 'epoch-5', 'epoch-10']);
    expect(checkpointsOf('B', m, []).map((c) => c.epoch)).toEqual([0, 4, 8]);
  });

  it('falls back to the live concept events before metrics.json exists', () => {
    const events = [live('S', 5), live('S', 0), live('B', 4), live('S', 5)];
    expect(checkpointsOf('S', null, events).map((c) => c.key)).toEqual(['epoch-0', 'epoch-5']);
    expect(checkpointsOf('T', null, events)).toEqual([{ key: 'final', epoch: 0 }]);
  });

  it("offers every student and baseline of a run for the columns: seeds and a study's further methods", () => {
    const m = metricsFixture();
    const one = m.networks.S;
    m.networks = { B2: one, 'S2-1': one, T: m.networks.T, 'S-1': one, S2: one, S: one, B: m.networks.B, S10: one };
    expect(networksOf('S', m, [])).toEqual(['S', 'S-1', 'S2', 'S2-1', 'S10']);
    expect(networksOf('B', m, [])).toEqual(['B', 'B2']);
    const events = [live('S', 0), live('S3', 0), live('B', 0), live('T', 0), live('S3', 2)];
    expect(networksOf('S', null, events)).toEqual(['S', 'S3']);
    expect(checkpointsOf('S2', m, []).map((c) => c.key)).toEqual(['epoch-0', 'epoch-5', 'epoch-10']);
  });

  it('maps the shared slider to each network, clamped to its own checkpoints', () => {
    const list = [
      { key: 'epoch-0', epoch: 0 },
      { key: 'epoch-4', epoch: 4 }
    ];
    expect(checkpointAt(list, 1)?.key).toBe('epoch-4');
    expect(checkpointAt(list, 9)?.key).toBe('epoch-4');
    expect(checkpointAt([], 0)).toBeNull();
  });

  it('orders images by the final N_fg gap between S and B, missing ones last', () => {
    const m = metricsFixture();
    m.networks.B.perImage = [
      { ...m.networks.S.perImage[0], foreground: [0, 0, 2] },
      { ...m.networks.S.perImage[1], foreground: [0, 0, 3] }
    ];
    // S final N_fg: image 0 -> 2, image 1 -> 0; B: 2 and 3; gaps 0 and 3
    expect(imageOrder(3, m, 'differ')).toEqual([1, 0, 2]);
    expect(imageOrder(3, m, 'index')).toEqual([0, 1, 2]);
    expect(imageOrder(2, null, 'differ')).toEqual([0, 1]);
    // The picked pair: S2 (final N_fg 5 and 0) against B: gaps 3 and 3, ties by index.
    m.networks.S2 = {
      ...m.networks.S,
      perImage: [
        { ...m.networks.S.perImage[0], foreground: [0, 0, 5] },
        { ...m.networks.S.perImage[1], foreground: [0, 0, 0] }
      ]
    };
    expect(imageOrder(3, m, 'differ', { S: 'S2', B: 'B' })).toEqual([0, 1, 2]);
    m.networks.S2.perImage[1].foreground = [0, 0, 7]; // gaps 3 and 4
    expect(imageOrder(3, m, 'differ', { S: 'S2', B: 'B' })).toEqual([1, 0, 2]);
    expect(imageOrder(3, m, 'differ')).toEqual([1, 0, 2]);
  });

  it("gives an image's own curve, or null when the network left it out", () => {
    const m = metricsFixture();
    expect(imageCurve(m, 'S', 0)).toEqual({
      epochs: [0, 5, 10],
      foregroundConceptsByCheckpoint: [0, 1, 2],
      backgroundConceptsByCheckpoint: [1, 1, 1]
    });
    expect(imageCurve(m, 'B', 0)).toBeNull();
  });

  it('sums a map to four decimals', () => {
    expect(mapSum([0.1, 0.2, -0.05])).toBe('0.2500');
    expect(mapSum(null)).toBe('');
  });
});
