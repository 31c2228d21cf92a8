import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  importDataset,
  loadDataset,
  datasetPath,
  readSampleMask,
  writeMask,
  undoMask,
  redoMask,
  resetMask,
  maskHistory
} from '../../../../src/engine/data';
import { readMaskPng } from '../../../../src/engine/io/images';
import { encodeMaskString } from '../../../../src/engine/data/masks/rle';
import { tempDir } from '../../../helpers/fixtures';
import { writeImage, writeGrey } from '../../../helpers/data-fixtures';

const N = 8 * 8;
const filled = (from: number, to: number) => Uint8Array.from({ length: N }, (_, i) => (i >= from && i < to ? 1 : 0));

describe('mask editing', () => {
  const tmp = tempDir('kd-lens-edit-');
  const ws = join(tmp.path, 'ws');
  const src = join(tmp.path, 'src');
  const original = Uint8Array.from({ length: N }, (_, i) => (Math.floor(i / 8) < 4 ? 1 : 0)); // top half

  beforeAll(async () => {
    for (const name of ['a', 'b']) {
      await writeImage(join(src, 'images', 'k', `${name}.png`), 8, 8, () => [10, 20, 30]);
      await writeGrey(join(src, 'masks', 'k', `${name}.png`), 8, 8, (_, y) => (y < 4 ? 255 : 0));
    }
    await importDataset({ workspace: ws, format: 'folder', src, name: 'edit', size: 8 });
  });
  afterAll(() => tmp.cleanup());

  it('reads the imported mask as 0/1', async () => {
    const m = await readSampleMask(ws, 'edit', 'k-a');
    expect([m.width, m.height]).toEqual([8, 8]);
    expect(Array.from(m.data)).toEqual(Array.from(original));
    expect(await maskHistory(ws, 'edit', 'k-a')).toEqual({ canUndo: 0, canRedo: 0, edited: false });
  });

  it('writes with history, undo and redo, and marks the sample edited', async () => {
    await writeMask(ws, 'edit', 'k-a', filled(0, 10));
    await writeMask(
      ws,
      'edit',
      'k-a',
      filled(5, 20).map((v) => v * 7)
    ); // any value > 0 is foreground
    expect(Array.from((await readSampleMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(5, 20)));
    expect(await maskHistory(ws, 'edit', 'k-a')).toEqual({ canUndo: 2, canRedo: 0, edited: true });
    expect((await loadDataset(ws, 'edit')).samples.find((s) => s.id === 'k-a')!.edited).toBe(true);
    // The stored PNG follows, and the imported mask is kept aside.
    expect(Array.from((await readMaskPng(datasetPath(ws, 'edit', 'masks/k-a.png'))).data)).toEqual(
      Array.from(filled(5, 20))
    );
    expect(Array.from((await readMaskPng(datasetPath(ws, 'edit', 'masks-imported/k-a.png'))).data)).toEqual(
      Array.from(original)
    );

    expect(Array.from((await undoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(0, 10)));
    expect(Array.from((await redoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(5, 20)));
    await undoMask(ws, 'edit', 'k-a');
    expect(Array.from((await undoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(original));
    // Nothing left to undo: a no-op.
    expect(Array.from((await undoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(original));
    expect(await maskHistory(ws, 'edit', 'k-a')).toEqual({ canUndo: 0, canRedo: 2, edited: false });
    expect((await loadDataset(ws, 'edit')).samples.find((s) => s.id === 'k-a')!.edited).toBe(false);
  });

  it('keeps the history across restarts', async () => {
    vi.resetModules();
    const fresh = await import('../../../../src/engine/data/mask-edit');
    expect(Array.from((await fresh.redoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(0, 10)));
    // A new edit drops what could be redone.
    await fresh.writeMask(ws, 'edit', 'k-a', filled(30, 40));
    expect(await fresh.maskHistory(ws, 'edit', 'k-a')).toEqual({ canUndo: 2, canRedo: 0, edited: true });
  });

  it('resets to the imported mask as an undoable step', async () => {
    expect(Array.from((await resetMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(original));
    expect(await maskHistory(ws, 'edit', 'k-a')).toEqual({ canUndo: 3, canRedo: 0, edited: false });
    expect(Array.from((await undoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(30, 40)));
    expect(readdirSync(datasetPath(ws, 'edit', 'masks')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('trusts the history when a crash left the PNG behind it', async () => {
    await writeMask(ws, 'edit', 'k-b', filled(0, 1));
    const history = {
      version: 1,
      width: 8,
      height: 8,
      states: [encodeMaskString(original), encodeMaskString(filled(0, 1)), encodeMaskString(filled(0, 2))],
      position: 2
    };
    writeFileSync(datasetPath(ws, 'edit', 'edits/k-b.json'), JSON.stringify(history));
    expect(Array.from((await readSampleMask(ws, 'edit', 'k-b')).data)).toEqual(Array.from(filled(0, 2)));
    await resetMask(ws, 'edit', 'k-b');
  });

  it('refuses a mask of the wrong size and unknown samples', async () => {
    await expect(writeMask(ws, 'edit', 'k-a', new Uint8Array(10))).rejects.toThrow(
      /has 10 values but sample 'k-a' is 8x8 \(64\)/
    );
    await expect(readSampleMask(ws, 'edit', 'nope')).rejects.toThrow(/has no sample 'nope'/);
    await expect(readSampleMask(ws, 'nothere', 'k-a')).rejects.toThrow(/no dataset 'nothere'/);
  });

  it('carries hand edits over when the same source is imported again', async () => {
    await writeMask(ws, 'edit', 'k-a', filled(1, 3));
    await importDataset({ workspace: ws, format: 'folder', src, name: 'edit', size: 8 });
    expect(Array.from((await readSampleMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(1, 3)));
    expect((await loadDataset(ws, 'edit')).samples.find((s) => s.id === 'k-a')!.edited).toBe(true);
    expect(Array.from((await resetMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(original));
    expect(Array.from((await undoMask(ws, 'edit', 'k-a')).data)).toEqual(Array.from(filled(1, 3)));
  });
});
