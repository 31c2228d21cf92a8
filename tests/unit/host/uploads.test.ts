/*
 * Import from the browser's computer: uploads written in parts at their offsets (a retried part 0
 * after part 1, parts out of order, offsets past the announced size), finished only when every byte
 * has arrived, a zip unpacked, the single top folder entered (then the VOC root or COCO images folder
 * the detection finds there) and handed to the import; the upload
 * folder removed when the import ends either way, abandoned uploads expired, orphans swept at
 * start, and a limit on concurrent uploads. An upload unpacked for a study is kept (not imported)
 * until reclaimed, cancelled or expired. The zip limits themselves: unzip.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, promises as fsp, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImportRequest } from '../../../src/common/api';
import { createUploads, UPLOAD_LIMIT_BYTES } from '../../../src/host/uploads';
import { tempDir } from '../../helpers/fixtures';
import { writeZip } from '../../helpers/zip-writer';

let ws: { path: string; cleanup: () => void };
let imported: ImportRequest[];
let finish: { ok: () => void; fail: () => void };
const uploads = (o: { expireMs?: number; maxConcurrent?: number } = {}) =>
  createUploads({
    workspace: ws.path,
    ...o,
    importDataset: async (r) => {
      imported.push(r);
      const done = new Promise<void>((ok, fail) => (finish = { ok, fail: () => fail(new Error('import failed')) }));
      return { jobId: 'job-1', done };
    }
  });
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const uploadDirs = (): string[] => (existsSync(join(ws.path, 'uploads')) ? readdirSync(join(ws.path, 'uploads')) : []);
const settle = () => new Promise((r) => setTimeout(r, 50));

beforeEach(() => {
  ws = tempDir();
  imported = [];
});
afterEach(() => ws.cleanup());

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

  it('a retried part 0 after part 1, and parts in any order, give the same file; received counts each byte once', async () => {
    const u = uploads();
    const text = 'abcdefghijklmnopqrstuvwx'; // 24 bytes in parts of 8
    const { uploadId } = await u.uploadStart({ totalBytes: 24 });
    const part = (k: number, fileBytes?: number) =>
      u.uploadPart({ uploadId, path: 'x.bin', offset: 8 * k, data: b64(text.slice(8 * k, 8 * k + 8)), fileBytes });
    expect(await part(2, 24)).toEqual({ received: 8 }); // the last part first: the file is preallocated
    expect(statSync(join(ws.path, 'uploads', uploadId, 'files', 'x.bin')).size).toBe(24);
    expect(await part(0, 24)).toEqual({ received: 16 });
    await expect(u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } })).rejects.toMatchObject({
      status: 400,
      message: "the upload is not complete: 'x.bin' is missing bytes 8-16"
    });
    expect(await part(1, 24)).toEqual({ received: 24 });
    expect(await part(0, 24)).toEqual({ received: 24 }); // a retry
    expect(await part(1)).toEqual({ received: 24 }); // a retry without the size
    const { folder } = await u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } });
    expect(readFileSync(join(folder, 'x.bin'), 'utf8')).toBe(text);
  });

  it('without announced file sizes, finishes only when the bytes add up with no gap', async () => {
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 6 });
    await u.uploadPart({ uploadId, path: 'a', offset: 3, data: b64('def') });
    await expect(u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } })).rejects.toThrow(
      /'a' is missing bytes 0-3/
    );
    await u.uploadPart({ uploadId, path: 'a', offset: 0, data: b64('abc') });
    const { folder } = await u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } });
    expect(readFileSync(join(folder, 'a'), 'utf8')).toBe('abcdef');
  });

  it('refuses offsets past the announced size (no sparse giant file), too much data and sizes that do not fit', async () => {
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 10 });
    await expect(u.uploadPart({ uploadId, path: 'x', offset: 3e9, data: b64('a') })).rejects.toMatchObject({
      status: 400,
      message: "upload path 'x': bytes 3000000000-3000000001 go past the announced 10 bytes"
    });
    await u.uploadPart({ uploadId, path: 'x', offset: 0, data: b64('abcdefgh') });
    await expect(u.uploadPart({ uploadId, path: 'y', offset: 0, data: b64('abc') })).rejects.toThrow(
      'more data than announced: the upload was announced as 10 bytes'
    );
    await expect(u.uploadPart({ uploadId, path: 'z', offset: 0, data: b64('a'), fileBytes: 11 })).rejects.toThrow(
      /'z' \(11 bytes\) does not fit in the announced size of 10 bytes/
    );
    expect(readdirSync(join(ws.path, 'uploads', uploadId, 'files'))).toEqual(['x']);
  });

  it('parts sent at the same time never add up to more than announced', async () => {
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 10 });
    const sent = await Promise.allSettled(
      ['a', 'b', 'c'].map((path) => u.uploadPart({ uploadId, path, offset: 0, data: b64('123456') }))
    );
    expect(sent.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(readdirSync(join(ws.path, 'uploads', uploadId, 'files'))).toEqual(['a']);
  });

  it('refuses bad part paths with 400 naming the path: NUL, ".", "..", empty parts, 300-character parts', async () => {
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 3 });
    const cases: [string, RegExp][] = [
      ['a\0b', /'a\\0b' contains a NUL character/],
      ['.', /'\.' has an empty or '\.' part/],
      ['a/./b', /has an empty or '\.' part/],
      ['a//b', /has an empty or '\.' part/],
      ['../x', /contains '\.\.'/],
      ['/etc/x', /is absolute/],
      [`a/${'n'.repeat(300)}`, /has a part longer than 255 bytes/]
    ];
    for (const [path, message] of cases) {
      const err = await u.uploadPart({ uploadId, path, offset: 0, data: b64('a') }).catch((e: unknown) => e);
      expect([path, err]).toMatchObject([path, { status: 400, message: expect.stringMatching(message) }]);
      expect(String((err as Error).message)).not.toContain(ws.path);
    }
    await u.uploadPart({ uploadId, path: 'a', offset: 0, data: b64('a') });
    await expect(u.uploadPart({ uploadId, path: 'a/b', offset: 0, data: b64('b') })).rejects.toMatchObject({
      status: 400,
      message: "upload path 'a/b' is inside 'a', which is a file of this upload"
    });
    await u.uploadPart({ uploadId, path: 'c/d', offset: 0, data: b64('d') });
    await expect(u.uploadPart({ uploadId, path: 'c', offset: 0, data: b64('c') })).rejects.toThrow(
      "upload path 'c' is already a folder of this upload"
    );
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

  it('imports a VOC zip nested below a top folder and VOCdevkit/VOC2012 from the VOC root the detection found', async () => {
    const u = uploads();
    const root = 'VOCtrainval_11-May-2012/VOCdevkit/VOC2012';
    const zip = writeZip([
      { name: `${root}/Annotations/2007_000032.xml`, data: '<annotation/>' },
      { name: `${root}/JPEGImages/2007_000032.jpg`, data: 'jpg' },
      { name: `${root}/SegmentationObject/2007_000032.png`, data: 'png' },
      { name: `${root}/ImageSets/Segmentation/train.txt`, data: '2007_000032\n' }
    ]);
    const { uploadId } = await u.uploadStart({ totalBytes: zip.length });
    await u.uploadPart({ uploadId, path: 'VOCtrainval_11-May-2012.zip', offset: 0, data: zip.toString('base64') });
    const { folder } = await u.uploadFinish({ uploadId, request: { format: 'voc', name: 'voc' } });
    expect(folder).toBe(join(ws.path, 'uploads', uploadId, 'folder', ...root.split('/')));
    expect(imported).toEqual([{ format: 'voc', name: 'voc', src: folder }]);
    expect(readFileSync(join(folder, 'Annotations', '2007_000032.xml'), 'utf8')).toBe('<annotation/>');
  });

  it('a COCO zip imports from the images folder of its split, with the JSON named or found', async () => {
    for (const ann of ['annotations/instances_val2017.json', undefined]) {
      imported = [];
      const u = uploads();
      const zip = writeZip([
        { name: 'coco/annotations/instances_val2017.json', data: '{}' },
        { name: 'coco/val2017/000000000139.jpg', data: 'jpg' },
        { name: 'coco/val2017/000000000285.jpg', data: 'jpg' }
      ]);
      const { uploadId } = await u.uploadStart({ totalBytes: zip.length });
      await u.uploadPart({ uploadId, path: 'coco.zip', offset: 0, data: zip.toString('base64') });
      const request = { format: 'coco' as const, name: 'c', ...(ann ? { ann } : {}) };
      const { folder } = await u.uploadFinish({ uploadId, request });
      const top = join(ws.path, 'uploads', uploadId, 'folder', 'coco');
      expect(folder).toBe(join(top, 'val2017'));
      expect(imported).toEqual([
        { format: 'coco', name: 'c', src: folder, ann: join(top, 'annotations', 'instances_val2017.json') }
      ]);
    }
  });

  it('a format chosen against the detection imports the top folder as asked', async () => {
    const u = uploads();
    const zip = writeZip([
      { name: 'top/VOCdevkit/VOC2012/Annotations/a.xml', data: '<annotation/>' },
      { name: 'top/VOCdevkit/VOC2012/JPEGImages/a.jpg', data: 'jpg' }
    ]);
    const { uploadId } = await u.uploadStart({ totalBytes: zip.length });
    await u.uploadPart({ uploadId, path: 'top.zip', offset: 0, data: zip.toString('base64') });
    const { folder } = await u.uploadFinish({ uploadId, request: { format: 'folder', name: 'f' } });
    expect(folder).toBe(join(ws.path, 'uploads', uploadId, 'folder', 'top'));
  });

  it('removes the upload when its import ends, whether it succeeds or fails', async () => {
    const u = uploads();
    for (const outcome of ['ok', 'fail'] as const) {
      const { uploadId } = await u.uploadStart({ totalBytes: 1 });
      await u.uploadPart({ uploadId, path: 'a', offset: 0, data: b64('a') });
      await u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } });
      expect(uploadDirs()).toEqual([uploadId]); // the import job still reads it
      await expect(u.uploadPart({ uploadId, path: 'b', offset: 0, data: b64('b') })).rejects.toThrow(/not found/);
      finish[outcome]();
      await settle();
      expect([outcome, uploadDirs()]).toEqual([outcome, []]);
    }
  });

  it('keeps an upload unpacked for a study until it is reclaimed, cancelled or expires', async () => {
    const u = uploads({ expireMs: 150 });
    const { uploadId } = await u.uploadStart({ totalBytes: 6 });
    await expect(u.keptFolder(uploadId)).rejects.toMatchObject({ status: 404 });
    await u.uploadPart({ uploadId, path: 'net/epoch-0.onnx', offset: 0, data: b64('abc') });
    await expect(u.uploadUnpack({ uploadId })).rejects.toMatchObject({
      status: 400,
      message: 'the upload is not complete: 3 of the announced 6 bytes have arrived'
    });
    await u.uploadPart({ uploadId, path: 'net/epoch-2.onnx', offset: 0, data: b64('def') });
    expect(await u.uploadUnpack({ uploadId })).toEqual({ uploadId, files: 2 });
    const folder = await u.keptFolder(uploadId);
    expect(folder).toBe(join(ws.path, 'uploads', uploadId, 'folder', 'net'));
    expect(readdirSync(folder).sort()).toEqual(['epoch-0.onnx', 'epoch-2.onnx']);
    expect(imported).toEqual([]);
    await expect(u.uploadPart({ uploadId, path: 'x', offset: 0, data: b64('g') })).rejects.toMatchObject({
      status: 404
    });
    await u.reclaim(uploadId);
    expect(uploadDirs()).toEqual([]);
    await expect(u.keptFolder(uploadId)).rejects.toMatchObject({ status: 404 });

    const second = (await u.uploadStart({ totalBytes: 1 })).uploadId;
    await u.uploadPart({ uploadId: second, path: 'a', offset: 0, data: b64('a') });
    await u.uploadUnpack({ uploadId: second });
    expect(await u.uploadCancel({ uploadId: second })).toEqual({ cancelled: true });
    expect(uploadDirs()).toEqual([]);

    const third = (await u.uploadStart({ totalBytes: 1 })).uploadId;
    await u.uploadPart({ uploadId: third, path: 'a', offset: 0, data: b64('a') });
    await u.uploadUnpack({ uploadId: third });
    await new Promise((r) => setTimeout(r, 200));
    await u.uploadStart({ totalBytes: 1 }); // a start expires what is abandoned
    await expect(u.keptFolder(third)).rejects.toMatchObject({ status: 404 });
    expect(uploadDirs()).not.toContain(third);
  });

  it('expires an upload without a part for expireMs, and limits concurrent uploads', async () => {
    const u = uploads({ expireMs: 100, maxConcurrent: 2 });
    const a = await u.uploadStart({ totalBytes: 5 });
    await u.uploadStart({ totalBytes: 5 });
    await expect(u.uploadStart({ totalBytes: 5 })).rejects.toMatchObject({ status: 429 });
    await u.uploadPart({ uploadId: a.uploadId, path: 'x', offset: 0, data: b64('ab') });
    await new Promise((r) => setTimeout(r, 150));
    const c = await u.uploadStart({ totalBytes: 5 }); // the other two expired first
    expect(uploadDirs()).toEqual([c.uploadId]);
    await expect(u.uploadPart({ uploadId: a.uploadId, path: 'x', offset: 2, data: b64('c') })).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/expired/)
    });
  });

  it('sweeps at start the uploads left by a process that is gone, and keeps those of a live one', async () => {
    const root = join(ws.path, 'uploads');
    for (const [name, pid] of [
      ['up-dead', 2 ** 22 + 12345],
      ['up-none', null],
      ['up-live', process.ppid]
    ] as const) {
      mkdirSync(join(root, name, 'files'), { recursive: true });
      writeFileSync(join(root, name, 'files', 'big.bin'), Buffer.alloc(1000));
      if (pid !== null) writeFileSync(join(root, name, 'owner.json'), JSON.stringify({ pid }));
    }
    const u = uploads();
    const { uploadId } = await u.uploadStart({ totalBytes: 1 });
    expect(uploadDirs().sort()).toEqual(['up-live', uploadId].sort());
  });

  it('refuses uploads over the limit; cancel removes everything', async () => {
    const u = uploads();
    await expect(u.uploadStart({ totalBytes: UPLOAD_LIMIT_BYTES + 1 })).rejects.toMatchObject({
      status: 413,
      message: expect.stringMatching(/larger than the upload limit of 1024 MiB/)
    });
    const { uploadId } = await u.uploadStart({ totalBytes: 3 });
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
      message: expect.stringMatching(/^data.zip: not a zip archive/)
    });
    expect(existsSync(join(ws.path, 'uploads', uploadId))).toBe(false);
  });

  it('refuses an upload, or a zip that unpacks to more, than the free disk holds (less a reserve)', async () => {
    const u = uploads();
    const zip = writeZip([{ name: 'a.bin', data: Buffer.alloc(300_000, 7) }]);
    const { uploadId } = await u.uploadStart({ totalBytes: zip.length });
    await u.uploadPart({ uploadId, path: 'a.zip', offset: 0, data: zip.toString('base64') });
    const real = await fsp.statfs(ws.path);
    // From now on the disk has 256 MiB + 100 KB free: the reserve, and less than the zip unpacks to.
    const spy = vi.spyOn(fsp, 'statfs').mockResolvedValue({ ...real, bsize: 1024, bavail: 256 * 1024 + 100 });
    try {
      await expect(u.uploadStart({ totalBytes: 200_000 })).rejects.toMatchObject({
        status: 507,
        message: "the server's disk has not enough free space for 200000 bytes"
      });
      await expect(u.uploadFinish({ uploadId, request: { format: 'folder', name: 'x' } })).rejects.toMatchObject({
        status: 400,
        message: 'a.zip: unpacks to 0.3 MiB, more than the 0.1 MiB that may be unpacked'
      });
    } finally {
      spy.mockRestore();
    }
  });
});
