/*
 * Import from the browser's computer: the zip reader (deflate and stored, CRC checked, unsafe
 * paths refused), and uploads written in parts, a zip unpacked, the single top folder entered and
 * handed to importDataset; size limit and cancel leave nothing behind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportRequest } from '../../../src/common/api';
import { readZip, ZipError } from '../../../src/engine/io/zip';
import { createUploads, UPLOAD_LIMIT_BYTES } from '../../../src/host/uploads';
import { tempDir } from '../../helpers/fixtures';
import { writeZip } from '../../helpers/zip-writer';

let ws: { path: string; cleanup: () => void };
let imported: ImportRequest[];
const uploads = () =>
  createUploads({ workspace: ws.path, importDataset: async (r) => (imported.push(r), { jobId: 'job-1' }) });
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

beforeEach(() => {
  ws = tempDir();
  imported = [];
});
afterEach(() => ws.cleanup());

describe('readZip', () => {
  it('reads deflated and stored entries and checks their CRC', () => {
    const zip = writeZip([
      { name: 'a/x.txt', data: 'hello hello hello' },
      { name: 'a/y.bin', data: Buffer.from([1, 2, 3]), store: true }
    ]);
    const entries = readZip(zip, 'd.zip');
    expect(entries.map((e) => [e.name, e.size, e.data().toString('hex')])).toEqual([
      ['a/x.txt', 17, Buffer.from('hello hello hello').toString('hex')],
      ['a/y.bin', 3, '010203']
    ]);
    const broken = Buffer.from(zip);
    broken[30 + 'a/x.txt'.length + 2] ^= 0xff; // a byte of the deflated data
    expect(() => readZip(broken, 'd.zip')[0].data()).toThrow();
  });

  it('refuses entries that would leave the folder, and what is not a zip', () => {
    expect(() => readZip(writeZip([{ name: '../evil.txt', data: 'x' }]), 'd.zip')).toThrow(
      /entry '..\/evil.txt' would be written outside/
    );
    expect(() => readZip(writeZip([{ name: '/etc/passwd', data: 'x' }]), 'd.zip')).toThrow(ZipError);
    expect(() => readZip(Buffer.from('not a zip at all, really not'), 'd.zip')).toThrow(/d.zip: not a zip archive/);
  });
});

describe('uploads', () => {
  it('writes a folder in parts and imports its single top folder', async () => {
    const u = uploads();
    const { uploadId, limitBytes } = await u.uploadStart({ totalBytes: 10 });
    expect(limitBytes).toBe(UPLOAD_LIMIT_BYTES);
    await u.uploadPart({ uploadId, path: 'shapes/images/a/1.png', offset: 0, data: b64('abcde') });
    await u.uploadPart({ uploadId, path: 'shapes/images/a/1.png', offset: 5, data: b64('fgh') });
    await u.uploadPart({ uploadId, path: 'shapes/images/b/2.png', offset: 0, data: b64('ij') });
    const { jobId, folder } = await u.uploadFinish({ uploadId, request: { format: 'folder', name: 'shapes' } });
    expect(jobId).toBe('job-1');
    expect(folder).toBe(join(ws.path, 'uploads', uploadId, 'folder', 'shapes'));
    expect(readFileSync(join(folder, 'images', 'a', '1.png'), 'utf8')).toBe('abcdefgh');
    expect(imported).toEqual([{ format: 'folder', name: 'shapes', src: folder }]);
  });

  it('unpacks a zip and passes the annotations path inside it', async () => {
    const u = uploads();
    const zip = writeZip([
      { name: 'coco/images/1.jpg', data: 'jpg' },
      { name: 'coco/ann.json', data: '{}' }
    ]);
    const { uploadId } = await u.uploadStart({ totalBytes: zip.length });
    await u.uploadPart({ uploadId, path: 'coco.zip', offset: 0, data: zip.toString('base64') });
    const { folder } = await u.uploadFinish({ uploadId, request: { format: 'coco', name: 'c', ann: 'ann.json' } });
    expect(readFileSync(join(folder, 'images', '1.jpg'), 'utf8')).toBe('jpg');
    expect(imported[0].ann).toBe(join(folder, 'ann.json'));
  });

  it('refuses uploads over the limit, parts beyond the announced size and unsafe paths; cancel removes everything', async () => {
    const u = uploads();
    await expect(u.uploadStart({ totalBytes: UPLOAD_LIMIT_BYTES + 1 })).rejects.toThrow(
      /larger than the upload limit of 1024 MiB/
    );
    const { uploadId } = await u.uploadStart({ totalBytes: 3 });
    await expect(u.uploadPart({ uploadId, path: '../x', offset: 0, data: b64('a') })).rejects.toThrow(
      /must be relative/
    );
    await expect(u.uploadPart({ uploadId, path: 'x', offset: 0, data: b64('abcd') })).rejects.toThrow(
      /more data than announced/
    );
    await u.uploadPart({ uploadId, path: 'x', offset: 0, data: b64('abc') });
    expect(await u.uploadCancel({ uploadId })).toEqual({ cancelled: true });
    expect(existsSync(join(ws.path, 'uploads', uploadId))).toBe(false);
    await expect(u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } })).rejects.toThrow(/not found/);
  });

  it('a broken zip is a 400 naming the file, and leaves nothing behind', async () => {
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 9 });
    await u.uploadPart({ uploadId, path: 'data.zip', offset: 0, data: b64('not a zip') });
    await expect(u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/data.zip: not a zip archive/)
    });
    expect(existsSync(join(ws.path, 'uploads', uploadId))).toBe(false);
  });
});
