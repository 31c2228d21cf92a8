import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importDataset, loadDataset, datasetPath, datasetIdFromName, ImportError } from '../../../../src/engine/data';
import { tempDir } from '../../../helpers/fixtures';
import { writeImage } from '../../../helpers/data-fixtures';

describe('importDataset', () => {
  const tmp = tempDir('kd-lens-import-');
  const ws = join(tmp.path, 'ws');
  const src = join(tmp.path, 'src');

  beforeAll(async () => {
    for (const c of ['ant', 'bee', 'cow'])
      for (let i = 0; i < 5; i++)
        await writeImage(join(src, c, `${i}.png`), 12 + i, 10, (x, y) => [x * 20, y * 20, i * 40]);
  });
  afterAll(() => tmp.cleanup());

  const files = (id: string) =>
    readdirSync(datasetPath(ws, id, 'images'))
      .sort()
      .map(
        (f) =>
          readFileSync(datasetPath(ws, id, `images/${f}`)).toString('base64') +
          readFileSync(datasetPath(ws, id, `masks/${f}`)).toString('base64')
      );

  it('derives the dataset id from the name', () => {
    expect(datasetIdFromName('My Birds (2024)')).toBe('my-birds-2024');
    expect(datasetIdFromName('Élan vital')).toBe('elan-vital');
    expect(datasetIdFromName('***')).toMatch(/^ds-[0-9a-f]{8}$/); // more in dataset-id.test.ts
  });

  it('is idempotent: the same source under the same name gives the same dataset, byte for byte', async () => {
    const progress: [number, number][] = [];
    await importDataset({ workspace: ws, format: 'folder', src, name: 'Twice', size: 8 }, (done, total) =>
      progress.push([done, total])
    );
    expect(progress[progress.length - 1]).toEqual([15, 15]);
    const first = readFileSync(datasetPath(ws, 'twice', 'dataset.json'), 'utf8');
    const firstFiles = files('twice');
    await importDataset({ workspace: ws, format: 'folder', src, name: 'Twice', size: 8 });
    expect(readFileSync(datasetPath(ws, 'twice', 'dataset.json'), 'utf8')).toBe(first);
    expect(files('twice')).toEqual(firstFiles);
    // No temporary folders are left behind.
    expect(readdirSync(join(ws, 'datasets')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('limits samples per class with a seeded choice, and picks classes', async () => {
    const a = await importDataset({
      workspace: ws,
      format: 'folder',
      src,
      name: 'few',
      size: 8,
      maxPerClass: 2,
      classes: ['ant', 'cow', 'yak'],
      seed: 3
    });
    expect(a.classes).toEqual({ ant: 2, cow: 2 });
    // Every object that is not imported is listed with its file and reason.
    expect(a.skipped[0]).toEqual({
      file: 'classes',
      reason: "class 'yak' does not occur in the source (its classes: ant, bee, cow)"
    });
    expect(a.skipped.filter((s) => s.reason.includes('not among the classes asked for'))).toEqual(
      [0, 1, 2, 3, 4].map((i) => ({
        file: `bee/${i}.png`,
        reason: `bee/${i}.png (bee): class 'bee' is not among the classes asked for — image skipped`
      }))
    );
    const capped = a.skipped.filter((s) => s.reason.includes('already has 2 samples'));
    expect(capped.map((s) => s.file.split('/')[0]).sort()).toEqual(['ant', 'ant', 'ant', 'cow', 'cow', 'cow']);
    expect(capped[0].reason).toMatch(
      /^(ant|cow)\/\d\.png \((ant|cow)\): class '(ant|cow)' already has 2 samples \(the most per class asked for\) — image skipped$/
    );
    expect(a.skipped).toHaveLength(1 + 5 + 6);
    const ids = (await loadDataset(ws, 'few')).samples.map((s) => s.id);
    await importDataset({
      workspace: ws,
      format: 'folder',
      src,
      name: 'few',
      size: 8,
      maxPerClass: 2,
      classes: ['ant', 'cow'],
      seed: 3
    });
    expect((await loadDataset(ws, 'few')).samples.map((s) => s.id)).toEqual(ids);
    const m = await loadDataset(ws, 'few');
    expect(m.classes).toEqual(['ant', 'cow']);
    expect(m.options).toMatchObject({ maxPerClass: 2, seed: 3, size: 8, cropScale: 1.2 });
  });

  it('skips objects under the minimum size', async () => {
    // Every image is 10 px high.
    const err = (await importDataset({ workspace: ws, format: 'folder', src, name: 'big', size: 8, minSize: 11 }).catch(
      (e: unknown) => e
    )) as ImportError;
    expect(err).toBeInstanceOf(ImportError);
    expect(err.summary.skipped).toHaveLength(15);
    expect(err.summary.skipped[0]).toEqual({
      file: 'ant/0.png',
      reason: 'the image is 12x10 px, smaller than the minimum size 11 — image skipped'
    });
    expect(
      (await importDataset({ workspace: ws, format: 'folder', src, name: 'big', size: 8, minSize: 10 })).samples
    ).toBe(15);
  });

  it('refuses bad options and reserved names before reading anything', async () => {
    await expect(importDataset({ workspace: ws, format: 'folder', src, name: 'demo' })).rejects.toThrow(/reserved/);
    await expect(importDataset({ workspace: ws, format: 'folder', src, name: 'x', size: 4 })).rejects.toThrow(
      /size must be a whole number from 8 to 1024, got 4/
    );
    await expect(importDataset({ workspace: ws, format: 'folder', src, name: 'x', cropScale: 0.5 })).rejects.toThrow(
      /crop scale/
    );
    await expect(importDataset({ workspace: ws, format: 'voc', src, name: 'x', centreRegion: true })).rejects.toThrow(
      /folder format only/
    );
  });

  it("an upload's failed import names the user's file, not the server's folder", async () => {
    const err = await importDataset({
      workspace: ws,
      format: 'voc',
      src,
      name: 'up',
      sourceLabel: 'your upload voc.zip'
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^your upload voc\.zip has no Annotations folder/);
    expect((err as Error).message).not.toContain(tmp.path);
  });

  it('leaves an existing dataset untouched when a re-import imports nothing', async () => {
    await importDataset({ workspace: ws, format: 'folder', src, name: 'keep', size: 8 });
    const before = readFileSync(datasetPath(ws, 'keep', 'dataset.json'), 'utf8');
    const bad = join(tmp.path, 'bad');
    await writeImage(join(bad, 'k', 'x.png'), 5, 5, () => [0, 0, 0]);
    writeFileSync(join(bad, 'k', 'x.png'), 'garbage');
    await expect(importDataset({ workspace: ws, format: 'folder', src: bad, name: 'keep', size: 8 })).rejects.toThrow(
      /nothing could be imported/
    );
    expect(readFileSync(datasetPath(ws, 'keep', 'dataset.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(ws, 'datasets')).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
