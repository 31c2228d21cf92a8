/*
 * The zip reader and unpacker (uploads of a dataset): entries read from the central directory
 * without loading the archive, CRC checked, and everything that cannot be unpacked safely refused
 * with the user's file and entry named: paths leaving the folder, symbolic links, a file beside a
 * folder of the same name, corrupt deflate data, and both kinds of zip bomb (a high ratio, and an
 * entry that unpacks to more than it declares, stopped one byte past its declared size).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipFile, DEFAULT_UNZIP_LIMITS } from '../../../../src/engine/io/unzip';
import { tempDir } from '../../../helpers/fixtures';
import { deflatedZeros, writeZip, type ZipFile } from '../../../helpers/zip-writer';

let tmp: { path: string; cleanup: () => void };
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

async function unzip(files: ZipFile[] | Buffer, limits = DEFAULT_UNZIP_LIMITS) {
  const file = join(tmp.path, 'in.zip');
  writeFileSync(file, Buffer.isBuffer(files) ? files : writeZip(files));
  return unzipFile({ file, origin: 'birds.zip', into: join(tmp.path, 'out'), limits });
}
const refusal = (files: ZipFile[] | Buffer) =>
  unzip(files).then(
    () => 'unpacked',
    (e: Error) => `${e.name}: ${e.message}`
  );

describe('unzipFile', () => {
  it('unpacks deflated, stored and empty entries and folders', async () => {
    const r = await unzip([
      { name: 'a/', data: '' },
      { name: 'a/x.txt', data: 'hello hello hello' },
      { name: 'a/y.bin', data: Buffer.from([1, 2, 3]), store: true },
      { name: 'a/empty', data: '', store: true }
    ]);
    expect(r).toEqual({ entries: 4, bytes: 20 });
    const out = join(tmp.path, 'out', 'a');
    expect(readdirSync(out).sort()).toEqual(['empty', 'x.txt', 'y.bin']);
    expect(readFileSync(join(out, 'x.txt'), 'utf8')).toBe('hello hello hello');
    expect([...readFileSync(join(out, 'y.bin'))]).toEqual([1, 2, 3]);
  });

  it('refuses damaged data: a flipped byte (CRC) and a cut deflate stream, naming the file and entry', async () => {
    const good = writeZip([{ name: 'a/x.txt', data: 'hello hello hello hello' }]);
    const flipped = Buffer.from(good);
    flipped[30 + 'a/x.txt'.length + 2] ^= 0xff;
    expect(await refusal(flipped)).toMatch(/^ZipError: birds.zip: entry 'a\/x.txt' is damaged/);
    const packed = writeZip([{ name: 'big.txt', data: 'abcdefgh'.repeat(5000) }]);
    const deflated = packed.subarray(30 + 'big.txt'.length, packed.indexOf(Buffer.from([0x50, 0x4b, 1, 2])));
    const cut = writeZip([{ name: 'big.txt', deflated: deflated.subarray(0, 20), size: 40000, crc: 1 }]);
    const msg = await refusal(cut);
    expect(msg).toMatch(/^ZipError: birds.zip: entry 'big.txt' is damaged \(deflate data: unexpected end of file\)/);
    expect(msg).not.toContain(tmp.path);
  });

  it('refuses entries that would leave the folder, links, and a file beside a folder of its name', async () => {
    expect(await refusal([{ name: '../evil.txt', data: 'x' }])).toMatch(/entry '\.\.\/evil.txt' contains '\.\.'/);
    expect(await refusal([{ name: '/etc/passwd', data: 'x' }])).toMatch(/entry '\/etc\/passwd' is absolute/);
    expect(await refusal([{ name: 'a/./b', data: 'x' }])).toMatch(/has an empty or '\.' part/);
    expect(await refusal([{ name: `${'n'.repeat(300)}.txt`, data: 'x' }])).toMatch(/longer than 255 bytes/);
    expect(
      await refusal([
        { name: 'link', data: '/etc', symlink: true },
        { name: 'link/passwd', data: 'x' }
      ])
    ).toBe("ZipError: birds.zip: entry 'link' is a symbolic link; links are not unpacked (zip the files)");
    expect(
      await refusal([
        { name: 'a', data: 'x' },
        { name: 'a/b', data: 'y' }
      ])
    ).toBe("ZipError: birds.zip: entry 'a' is a file, but other entries are inside a folder of that name");
    expect(
      await refusal([
        { name: 'a/b', data: 'y' },
        { name: 'a', data: 'x' }
      ])
    ).toMatch(/entry 'a' is a file, but other entries are inside a folder/);
    expect(
      await refusal([
        { name: 'x', data: '1' },
        { name: 'x', data: '2' }
      ])
    ).toMatch(/entry 'x' appears twice/);
    expect(await refusal(Buffer.from('not a zip at all, really not'))).toMatch(/birds.zip: not a zip archive/);
    expect(existsSync(join(tmp.path, 'out', 'link'))).toBe(false);
  });

  it('refuses a high-ratio bomb before unpacking anything, and a total over the limit', async () => {
    const zeros = await deflatedZeros(64);
    const msg = await refusal([{ name: 'zeros.bin', deflated: zeros, size: 64 * 1024 ** 2 }]);
    expect(msg).toMatch(/^ZipError: birds.zip: entry 'zeros.bin' would expand \d+ times .*at most 100 times/);
    expect(existsSync(join(tmp.path, 'out'))).toBe(false);
    // Many small entries, each under the per-entry floor, add up: the archive's own ratio catches them.
    const small = await deflatedZeros(1);
    const many = Array.from({ length: 40 }, (_, k) => ({ name: `z${k}`, deflated: small, size: 1024 ** 2 }));
    expect(await refusal(many)).toMatch(/unpacks to 40.0 MiB from .* is it a zip bomb\?/);
    const limits = { ...DEFAULT_UNZIP_LIMITS, maxTotal: 10 };
    await expect(unzip([{ name: 'a', data: 'x'.repeat(11) }], limits)).rejects.toThrow(
      /unpacks to 0.0 MiB, more than the 0.0 MiB that may be unpacked/
    );
  });

  it('stops an entry that lies about its size one byte past what it declares, in bounded memory', async () => {
    const bomb = await deflatedZeros(200);
    const before = process.memoryUsage().rss;
    let peak = before;
    const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const msg = await refusal([{ name: 'small.txt', deflated: bomb, size: 1000 }]);
    clearInterval(probe);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(msg).toBe("ZipError: birds.zip: entry 'small.txt' unpacks to more than the 1000 bytes it declares");
    expect((peak - before) / 1024 ** 2).toBeLessThan(50); // 200 MiB inflated in memory would be far over
  });
});
