/*
 * Free disk held for uploads in flight, against a running server (issue 21): each start counts the
 * bytes the uploads in progress announced and have not sent yet, so uploads started together cannot
 * together promise more than the disk holds. The free-disk figure is faked through fs.statfs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { promises as fsp } from 'node:fs';
import { call, startTestServer, type TestServer } from '../../helpers/serve';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const GiB = 1024 ** 3;
const RESERVE = 256 * 1024 ** 2; // kept back by the server whatever the uploads

/** Runs `fn` while the disk of the workspace reports `free` bytes available (plus the reserve). */
async function withFreeDisk<T>(free: number, fn: () => Promise<T>): Promise<T> {
  const real = await fsp.statfs(t.workspace);
  const spy = vi.spyOn(fsp, 'statfs').mockResolvedValue({ ...real, bsize: 1024, bavail: (free + RESERVE) / 1024 });
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

const starts = (n: number, totalBytes: number) =>
  Promise.all(Array.from({ length: n }, () => call(t.server, 'uploadStart', { totalBytes })));
const ids = (answers: Awaited<ReturnType<typeof starts>>): string[] =>
  answers.filter((a) => a.status === 200).map((a) => (a.json.result as { uploadId: string }).uploadId);

describe('free disk held for uploads in flight', () => {
  it('four 1 GiB uploads started at once on a disk with 2.5 GiB free: two start, two are 507', async () => {
    await withFreeDisk(2.5 * GiB, async () => {
      const answers = await starts(4, GiB);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 507, 507]);
      for (const a of answers.filter((x) => x.status === 507))
        expect(a.json.error).toBe(
          "the server's disk has not enough free space for 1024 MiB (2560 MiB free, 2048 MiB of it held for the uploads in progress)"
        );
      // What has arrived is on disk (the free figure counts it); what is cancelled is held no more.
      const [a, b] = ids(answers);
      expect((await call(t.server, 'uploadCancel', { uploadId: a })).status).toBe(200);
      const again = await starts(2, GiB);
      expect(again.map((x) => x.status).sort()).toEqual([200, 507]);
      for (const id of [b, ...ids(again)]) await call(t.server, 'uploadCancel', { uploadId: id });
    });
  });

  it('holds only the bytes an upload has not sent yet', async () => {
    await withFreeDisk(1000, async () => {
      const [first] = ids(await starts(1, 600));
      expect((await starts(1, 600))[0].status).toBe(507);
      const part = { uploadId: first, path: 'a.bin', offset: 0, data: Buffer.alloc(300, 1).toString('base64') };
      expect((await call(t.server, 'uploadPart', part)).status).toBe(200);
      // 300 of 600 bytes sent: 300 held, so 700 of the (faked, unchanged) 1000 may be announced.
      const ok = await starts(1, 700);
      const no = await starts(1, 1);
      expect([ok[0].status, no[0].status]).toEqual([200, 507]);
      for (const id of [first, ...ids(ok)]) await call(t.server, 'uploadCancel', { uploadId: id });
    });
  });
});
