/*
 * Importing from the user's own computer when the UI runs in a browser against a remote server:
 * the browser sends a dropped folder (file by file) or a zip in base64 parts; they are written
 * under the workspace's uploads/<id>/files, a zip is unpacked there (engine/io/zip.ts), and the
 * result is imported like a folder on the server. Sizes are checked against a limit before and
 * while receiving; a cancelled or failed upload leaves nothing behind.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ImportRequest } from '../common/api';
import { CallerError, notFound } from '../common/errors';
import { readZip, safeEntryName } from '../engine/io/zip';

/** The most an upload may hold (before unpacking), and the size of the parts the browser sends. */
export const UPLOAD_LIMIT_BYTES = 1024 ** 3;
export const UPLOAD_PART_BYTES = 4 * 1024 * 1024;
export const UPLOADS_DIR = 'uploads';

interface Upload {
  dir: string;
  total: number;
  received: number;
}

export interface UploadOptions {
  workspace: string;
  importDataset: (request: ImportRequest) => Promise<{ jobId: string }>;
}

const tooBig = (what: string): CallerError =>
  new CallerError(400, `${what} is larger than the upload limit of ${UPLOAD_LIMIT_BYTES / 1024 ** 2} MiB`);

/** The folder to import: a single top folder of the upload is entered once (a zip of "birds/" holds birds/...). */
async function importRoot(dir: string): Promise<string> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).filter(
    (e) => !e.name.startsWith('.') && e.name !== '__MACOSX'
  );
  return entries.length === 1 && entries[0].isDirectory() ? join(dir, entries[0].name) : dir;
}

export function createUploads(o: UploadOptions) {
  const uploads = new Map<string, Upload>();
  const get = (id: string): Upload => {
    const u = uploads.get(id);
    if (!u) throw notFound(`upload '${id}' not found (finished, cancelled or never started)`);
    return u;
  };
  const drop = async (id: string): Promise<void> => {
    const u = uploads.get(id);
    uploads.delete(id);
    if (u) await fs.rm(u.dir, { recursive: true, force: true });
  };

  return {
    async uploadStart({
      totalBytes
    }: {
      totalBytes: number;
    }): Promise<{ uploadId: string; limitBytes: number; partBytes: number }> {
      if (totalBytes > UPLOAD_LIMIT_BYTES) throw tooBig(`the upload (${totalBytes} bytes)`);
      const uploadId = `up-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      const dir = join(o.workspace, UPLOADS_DIR, uploadId);
      await fs.mkdir(join(dir, 'files'), { recursive: true });
      uploads.set(uploadId, { dir, total: totalBytes, received: 0 });
      return { uploadId, limitBytes: UPLOAD_LIMIT_BYTES, partBytes: UPLOAD_PART_BYTES };
    },
    async uploadPart({
      uploadId,
      path,
      offset,
      data
    }: {
      uploadId: string;
      path: string;
      offset: number;
      data: string;
    }): Promise<{ received: number }> {
      const u = get(uploadId);
      if (!safeEntryName(path))
        throw new CallerError(400, `upload path '${path}' must be relative, with '/' and no '..'`);
      const bytes = Buffer.from(data, 'base64');
      if (u.received + bytes.length > u.total)
        throw tooBig(`upload ${uploadId}: more data than announced (${u.total} bytes)`);
      const file = join(u.dir, 'files', path);
      await fs.mkdir(dirname(file), { recursive: true });
      const handle = await fs.open(file, offset === 0 ? 'w' : 'r+');
      try {
        await handle.write(bytes, 0, bytes.length, offset);
      } finally {
        await handle.close();
      }
      u.received += bytes.length;
      return { received: u.received };
    },
    /** Unpacks a single uploaded zip, then imports the upload like a server folder. */
    async uploadFinish({
      uploadId,
      request
    }: {
      uploadId: string;
      request: Omit<ImportRequest, 'src'>;
    }): Promise<{ jobId: string; folder: string }> {
      const u = get(uploadId);
      const files = join(u.dir, 'files');
      try {
        const top = await fs.readdir(files);
        if (top.length === 1 && top[0].toLowerCase().endsWith('.zip')) {
          const zip = join(files, top[0]);
          const out = join(u.dir, 'unzipped');
          for (const e of readZip(await fs.readFile(zip), top[0], 4 * UPLOAD_LIMIT_BYTES)) {
            const target = join(out, e.name);
            if (e.directory) await fs.mkdir(target, { recursive: true });
            else {
              await fs.mkdir(dirname(target), { recursive: true });
              await fs.writeFile(target, e.data());
            }
          }
          await fs.rm(zip);
          await fs.rename(out, join(u.dir, 'folder'));
        } else {
          await fs.rename(files, join(u.dir, 'folder'));
        }
        const folder = await importRoot(join(u.dir, 'folder'));
        const ann = request.ann ? join(folder, request.ann) : undefined;
        if (request.ann && !safeEntryName(request.ann))
          throw new CallerError(400, `annotation file '${request.ann}' must be a path inside the upload`);
        const { jobId } = await o.importDataset({ ...request, src: folder, ...(ann ? { ann } : {}) });
        uploads.delete(uploadId);
        return { jobId, folder };
      } catch (err) {
        await drop(uploadId);
        if (err instanceof Error && err.name === 'ZipError') throw new CallerError(400, err.message);
        throw err;
      }
    },
    async uploadCancel({ uploadId }: { uploadId: string }): Promise<{ cancelled: boolean }> {
      const had = uploads.has(uploadId);
      await drop(uploadId);
      return { cancelled: had };
    }
  };
}
