/*
 * Uploads against a running server (issue 21): a retried part 0 after part 1 keeps the file whole,
 * an offset past the announced size is a 400, both kinds of zip bomb are refused with the user's
 * file and entry named while memory stays modest, and other requests are answered while a large
 * honest zip is being unpacked; the upload folder is gone when the import ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { call, startTestServer, type TestServer } from '../../helpers/serve';
import { deflatedChunks, deflatedZeros, writeZip } from '../../helpers/zip-writer';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

const uploadDirs = (): string[] => {
  const root = join(t.workspace, 'uploads');
  return existsSync(root) ? readdirSync(root) : [];
};

async function upload(name: string, data: Buffer): Promise<string> {
  const start = await call(t.server, 'uploadStart', { totalBytes: data.length });
  expect(start.status).toBe(200);
  const { uploadId, partBytes } = start.json.result as { uploadId: string; partBytes: number };
  for (let offset = 0; offset < data.length; offset += partBytes) {
    const part = data.subarray(offset, offset + partBytes);
    const r = await call(t.server, 'uploadPart', {
      uploadId,
      path: name,
      offset,
      data: part.toString('base64'),
      fileBytes: data.length
    });
    expect(r.status).toBe(200);
  }
  return uploadId;
}

describe('uploads through kd-lens serve', () => {
  it('keeps a file whole when part 0 is sent again after part 1, and refuses an offset past the size', async () => {
    const text = Buffer.from('0123456789abcdefghijklmnopqrstuv');
    const start = await call(t.server, 'uploadStart', { totalBytes: 32 });
    const { uploadId } = start.json.result as { uploadId: string };
    const part = (k: number) =>
      call(t.server, 'uploadPart', {
        uploadId,
        path: 'd/x.txt',
        offset: 16 * k,
        data: text.subarray(16 * k, 16 * k + 16).toString('base64')
      });
    expect((await part(1)).json.result).toEqual({ received: 16 }); // before part 0: no ENOENT
    expect((await part(0)).json.result).toEqual({ received: 32 });
    expect((await part(0)).json.result).toEqual({ received: 32 });
    const far = await call(t.server, 'uploadPart', { uploadId, path: 'y', offset: 3e9, data: 'YQ==' });
    expect([far.status, far.json.error]).toEqual([
      400,
      "upload path 'y': bytes 3000000000-3000000001 go past the announced 32 bytes"
    ]);
    const bad = await call(t.server, 'uploadPart', { uploadId, path: 'a\0b', offset: 0, data: 'YQ==' });
    expect([bad.status, bad.json.error]).toEqual([400, expect.stringMatching(/'a\\0b' contains a NUL character/)]);
    expect((await call(t.server, 'uploadCancel', { uploadId })).json.result).toEqual({ cancelled: true });
    expect(uploadDirs()).toEqual([]);
  });

  it('refuses a high-ratio bomb and a bomb lying about its size with 400, memory modest, the server answering', async () => {
    const zeros = await deflatedZeros(200);
    const cases = [
      {
        file: 'ratio.zip',
        entry: { name: 'zeros.bin', deflated: zeros, size: 200 * 1024 ** 2 },
        message: /^ratio.zip: entry 'zeros.bin' would expand \d+ times/
      },
      {
        file: 'liar.zip',
        entry: { name: 'small.txt', deflated: zeros, size: 1000 },
        message: /^liar.zip: entry 'small.txt' unpacks to more than the 1000 bytes it declares$/
      }
    ];
    for (const c of cases) {
      const uploadId = await upload(c.file, writeZip([c.entry]));
      const before = process.memoryUsage().rss;
      let peak = before;
      const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const finish = await call(t.server, 'uploadFinish', { uploadId, request: { format: 'folder', name: 'bomb' } });
      clearInterval(probe);
      expect([c.file, finish.status, finish.json.error]).toEqual([c.file, 400, expect.stringMatching(c.message)]);
      expect(finish.json.error).not.toContain(t.workspace);
      expect((peak - before) / 1024 ** 2).toBeLessThan(64);
      expect((await call(t.server, 'listJobs', {})).status).toBe(200);
    }
    expect(uploadDirs()).toEqual([]);
  });

  it('unpacks a large honest zip in bounded memory, answering other requests meanwhile', async () => {
    // 128 MiB that deflates about 25 times: in each 2 KiB, 64 random bytes then zeros.
    const entry = await deflatedChunks(128, () => {
      const c = Buffer.alloc(1024 ** 2);
      const noise = randomBytes(64 * 512);
      for (let k = 0; k < 512; k++) noise.copy(c, k * 2048, k * 64, k * 64 + 64);
      return c;
    });
    const uploadId = await upload('honest.zip', writeZip([{ name: 'set/big.bin', ...entry }]));
    const before = process.memoryUsage().rss;
    let peak = before;
    const probe = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let answered = 0;
    let finished = false;
    const finish = call(t.server, 'uploadFinish', { uploadId, request: { format: 'folder', name: 'honest' } }).then(
      (r) => ((finished = true), r)
    );
    while (!finished) {
      await call(t.server, 'listJobs', {});
      if (!finished) answered++;
    }
    const r = await finish;
    clearInterval(probe);
    // The import itself is a job that never runs here (no job process): the unzip is what was watched.
    expect([r.status, r.json.error]).toEqual([200, undefined]);
    // Inflating the entry in one piece (inflateRawSync) would hold all 128 MiB at once.
    expect((peak - before) / 1024 ** 2).toBeLessThan(64);
    expect(answered).toBeGreaterThanOrEqual(2);
    // The import ends (here: cancelled): the upload's folder goes with it.
    expect(uploadDirs()).toEqual([uploadId]);
    const { jobId } = r.json.result as { jobId: string };
    expect((await call(t.server, 'cancelJob', { jobId })).json.result).toEqual({ cancelled: true });
    for (let k = 0; k < 50 && uploadDirs().length; k++) await new Promise((ok) => setTimeout(ok, 20));
    expect(uploadDirs()).toEqual([]);
  });
});

describe('upload folders left behind', () => {
  it('sweeps at start the folders of a process that is gone, and expires an abandoned upload', async () => {
    process.env.KD_LENS_UPLOAD_EXPIRE_S = '0.2';
    const s = await startTestServer({
      prepare: (ws) => {
        for (const [name, pid] of [
          ['up-crashed', '4194000'],
          ['up-unowned', null]
        ]) {
          mkdirSync(join(ws, 'uploads', name!, 'files'), { recursive: true });
          writeFileSync(join(ws, 'uploads', name!, 'files', 'part.bin'), Buffer.alloc(4096));
          if (pid) writeFileSync(join(ws, 'uploads', name!, 'owner.json'), JSON.stringify({ pid: Number(pid) }));
        }
      }
    });
    try {
      const dirs = (): string[] => readdirSync(join(s.workspace, 'uploads')).sort();
      const first = await call(s.server, 'uploadStart', { totalBytes: 4 });
      const { uploadId } = first.json.result as { uploadId: string };
      expect(dirs()).toEqual([uploadId]);
      await call(s.server, 'uploadPart', { uploadId, path: 'a', offset: 0, data: 'YWI=' });
      await new Promise((r) => setTimeout(r, 300));
      const second = await call(s.server, 'uploadStart', { totalBytes: 4 });
      expect(dirs()).toEqual([(second.json.result as { uploadId: string }).uploadId]);
      const late = await call(s.server, 'uploadPart', { uploadId, path: 'a', offset: 2, data: 'Y2Q=' });
      expect([late.status, late.json.error]).toEqual([404, expect.stringMatching(/expired/)]);
    } finally {
      delete process.env.KD_LENS_UPLOAD_EXPIRE_S;
      await s.close();
    }
  });
});
