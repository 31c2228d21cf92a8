import { describe, it, expect, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateStore } from '../../../../src/engine/experiment/state';
import { StateSchema, whatRan } from '../../../../src/common/record-schemas';
import { tempDir } from '../../../helpers/fixtures';

describe('state.json records what ran the quantification', () => {
  const tmp = tempDir('kd-lens-state-');
  afterAll(() => tmp.cleanup());
  const stored = (file: string) => StateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));

  it('per task, with each distinct engine once in the order first seen, and counts per engine', async () => {
    const file = join(tmp.path, 'one', 'state.json');
    const store = await StateStore.create(file, 'one');
    expect(stored(file).quantification).toBeUndefined();
    await store.recordEngine('S/epoch-0#0', 'onnx cpu — 1 thread');
    await store.recordEngine('S/epoch-0#1', 'tfjs (wasm) — onnx unavailable: x');
    await store.recordEngine('B/epoch-0#0', 'onnx cpu — 1 thread');
    const q = stored(file).quantification!;
    expect(q.engines).toEqual(['onnx cpu — 1 thread', 'tfjs (wasm) — onnx unavailable: x']);
    expect(q.tasks).toEqual({
      'S/epoch-0#0': 'onnx cpu — 1 thread',
      'S/epoch-0#1': 'tfjs (wasm) — onnx unavailable: x',
      'B/epoch-0#0': 'onnx cpu — 1 thread'
    });
    expect(whatRan(stored(file))).toEqual({
      backend: null,
      quantification: [
        { engine: 'onnx cpu — 1 thread', tasks: 2 },
        { engine: 'tfjs (wasm) — onnx unavailable: x', tasks: 1 }
      ],
      training: []
    });
    // A resumed run adds to what the earlier one recorded.
    const again = await StateStore.load(file);
    await again.recordEngine('T/final#0', 'onnx cpu — 1 thread');
    expect(Object.keys(stored(file).quantification!.tasks)).toHaveLength(4);
  });

  it('keeps every task when results arrive at once (writes run in order)', async () => {
    const file = join(tmp.path, 'many', 'state.json');
    const store = await StateStore.create(file, 'many');
    await Promise.all(Array.from({ length: 24 }, (_, k) => store.recordEngine(`S/epoch-${k}#0`, `engine ${k % 3}`)));
    const q = stored(file).quantification!;
    expect(Object.keys(q.tasks)).toHaveLength(24);
    expect(q.engines).toEqual(['engine 0', 'engine 1', 'engine 2']);
  });

  it('reads a state.json of an older version (no quantification) as having recorded nothing', () => {
    const old = {
      version: 1,
      id: 'x',
      status: 'finished',
      createdAt: 'a',
      updatedAt: 'b',
      backend: 'wasm',
      stages: {},
      error: null
    };
    expect(whatRan(StateSchema.parse(old))).toEqual({ backend: 'wasm', quantification: [], training: [] });
  });
});
