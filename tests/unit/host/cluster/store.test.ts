import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../helpers/fixtures';
import { startS3Emulator, S3RVER_CREDENTIALS, type S3Emulator } from '../../../helpers/s3-emulator';
import { openStore, RunStore, checkKey, checkStore, type ArtifactStore } from '../../../../src/host/cluster/store';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string | null => (b ? new TextDecoder().decode(b) : null);

describe('store keys', () => {
  it('accepts plain relative paths and refuses escapes', () => {
    expect(checkKey('runs/exp-1/models/S/epoch-2/model.json')).toBe('runs/exp-1/models/S/epoch-2/model.json');
    for (const bad of ['../x', 'runs/../../etc', '/abs', 'a//b', 'a/./b', 'a/b/', '', 'a\\b', 'a/.hidden'])
      expect(() => checkKey(bad), bad).toThrow(/not a plain relative path/);
  });
  it('a run view stays under runs/<id>/', () => {
    const store = openStore('/tmp/nowhere');
    const run = new RunStore(store, 'exp-1');
    expect(run.key('results/S/epoch-0/0.json')).toBe('runs/exp-1/results/S/epoch-0/0.json');
    expect(() => run.key('../exp-2/x')).toThrow(/not a plain relative path/);
    expect(() => new RunStore(store, '../x')).toThrow(/experiment id/);
  });
  it('names the problem of a bad store URL', () => {
    expect(() => openStore('http://example.org/x')).toThrow(/use a folder, file:\/\/\/folder or s3:\/\/bucket/);
    expect(() => openStore('s3:///x')).toThrow(/no bucket|not a valid/);
  });
});

function contract(name: string, open: () => ArtifactStore): void {
  describe(`${name} store`, () => {
    it('puts, gets, lists and tells what exists', async () => {
      const store = open();
      await checkStore(store);
      const run = new RunStore(store, 'exp-a');
      await run.put('results/S/epoch-0/0.json', bytes('zero'));
      await run.put('results/S/epoch-0/1.json', bytes('one'));
      await run.put('results/S/epoch-0/1.json', bytes('one again')); // a duplicate overwrites, harmless
      await new RunStore(store, 'exp-b').put('results/S/epoch-0/0.json', bytes('other run'));
      expect(text(await run.get('results/S/epoch-0/1.json'))).toBe('one again');
      expect(await run.get('results/S/epoch-0/9.json')).toBeNull();
      expect(await run.exists('results/S/epoch-0/0.json')).toBe(true);
      expect(await run.exists('results/S/epoch-1/0.json')).toBe(false);
      expect(await run.list('results')).toEqual(['results/S/epoch-0/0.json', 'results/S/epoch-0/1.json']);
      expect(await run.list('nothing-here')).toEqual([]);
      const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
      await run.put('setup/big.bin', big);
      expect(await run.get('setup/big.bin')).toEqual(big);
    });
  });
}

const folder = tempDir();
contract('folder', () => openStore(folder.path));

describe('folder store refusing writes', () => {
  it('names the store, the key and the problem', async () => {
    const dir = tempDir();
    mkdirSync(join(dir.path, 'runs'));
    writeFileSync(join(dir.path, 'runs', 'exp-x'), 'a file where a folder must be');
    const run = new RunStore(openStore(`file://${dir.path}`), 'exp-x');
    await expect(run.put('results/a.json', bytes('x'))).rejects.toThrow(
      new RegExp(`folder ${dir.path}\\) refused to write runs/exp-x/results/a.json`)
    );
    dir.cleanup();
  });
});

describe('S3 store against an emulator over HTTP', () => {
  let emulator: S3Emulator;
  const dir = tempDir();
  const saved = { ...process.env };
  beforeAll(async () => {
    Object.assign(process.env, S3RVER_CREDENTIALS);
    emulator = await startS3Emulator(dir.path, ['kd']);
  });
  afterAll(async () => {
    await emulator.stop();
    process.env = saved;
    dir.cleanup();
    folder.cleanup();
  });
  contract('s3', () => openStore(emulator.url('kd', 'lab/one')));
  it('names the bucket when it does not exist', async () => {
    await expect(checkStore(openStore(emulator.url('missing')))).rejects.toThrow(
      /the store at s3:\/\/missing\/ at http:\/\/127.0.0.1:\d+ cannot be used: .*NoSuchBucket/
    );
  });
});
