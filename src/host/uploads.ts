/*
 * Importing from the user's own computer when the UI runs in a browser against a remote server:
 * the browser sends a dropped folder (file by file) or a zip in base64 parts; they are written at
 * their offsets under the workspace's uploads/<id>/files (a retried or reordered part lands in the
 * same place), a zip is unpacked there with limits (engine/io/unzip.ts), and the result is imported
 * like a folder on the server (from the folder the format detection found: a VOC root below
 * VOCdevkit/, COCO's images folder). An upload is finished only when every byte of every file has
 * arrived. Its folder is removed when its import ends, either way; one without a part for
 * `expireMs` is removed as abandoned, and at start every folder left by a process that is gone.
 * Each start holds the bytes the uploads in progress have announced and not yet sent against the
 * free disk, so uploads started together cannot together promise more than the disk holds.
 * A study's network (study-api.ts) is uploaded the same way and unpacked by uploadUnpack, then kept
 * (not imported) until the study that names it starts or fails to start; an unused one expires.
 * A single model file (onnx-models.ts) is taken as it is by takeFile.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ImportRequest } from '../common/api';
import { CallerError, notFound } from '../common/errors';
import { entryNameProblem, ZipError } from '../engine/io/zip';
import { refuseLinks } from '../engine/store/links';
import { OWNER_FILE, freeBytes, importRoot, sweepOrphans } from './upload-folders';
import { detectFolderFormat } from '../engine/data/detect';
import { missing, newUpload, receivedOf, unpack as unpackFiles, writePart, type Upload } from './upload-files';

/** The most an upload may hold (before unpacking), and the size of the parts the browser sends. */
export const UPLOAD_LIMIT_BYTES = 1024 ** 3;
export const UPLOAD_PART_BYTES = 4 * 1024 * 1024;
export const UPLOADS_DIR = 'uploads';
/** An upload without a part for this long is abandoned (env KD_LENS_UPLOAD_EXPIRE_S overrides). */
export const UPLOAD_EXPIRE_MS = 60 * 60 * 1000;
/** Uploads receiving or importing at once. */
export const MAX_CONCURRENT_UPLOADS = 4;

export interface UploadOptions {
  workspace: string;
  /** Starts the import job; `done` settles when it ends (then the upload's folder is removed). */
  importDataset: (request: ImportRequest) => Promise<{ jobId: string; done: Promise<unknown> }>;
  expireMs?: number;
  maxConcurrent?: number;
}

const mib = (n: number): string => (n < 1024 ** 2 ? `${n} bytes` : `${Math.round(n / 1024 ** 2)} MiB`);
const tooBig = (what: string): CallerError =>
  new CallerError(413, `${what} is larger than the upload limit of ${mib(UPLOAD_LIMIT_BYTES)}`);

export function createUploads(o: UploadOptions) {
  const root = join(o.workspace, UPLOADS_DIR);
  const fromEnv = Number(process.env.KD_LENS_UPLOAD_EXPIRE_S);
  const expireMs = o.expireMs ?? (fromEnv > 0 ? fromEnv * 1000 : UPLOAD_EXPIRE_MS);
  const maxConcurrent = o.maxConcurrent ?? MAX_CONCURRENT_UPLOADS;
  const uploads = new Map<string, Upload>();
  const swept = sweepOrphans(root);

  const get = (id: string): Upload => {
    const u = uploads.get(id);
    if (!u || u.importing) throw notFound(`upload '${id}' not found (finished, cancelled, expired or never started)`);
    return u;
  };
  const drop = async (id: string): Promise<void> => {
    const u = uploads.get(id);
    uploads.delete(id);
    if (u) await fs.rm(u.dir, { recursive: true, force: true });
  };
  /** Removes the uploads that have had no part for `expireMs`. */
  const expire = async (): Promise<void> => {
    const now = Date.now();
    for (const u of [...uploads.values()])
      if ((!u.importing || u.kept) && now - u.lastPart > expireMs) await drop(u.id).catch(() => undefined);
  };
  const timer = setInterval(() => void expire(), Math.min(expireMs, 5 * 60_000));
  timer.unref();

  /**
   * Disk the uploads in progress will still take: what each announced less what has arrived (and
   * is on disk already, so the free figure counts it). Held against the free disk at every start.
   */
  const held = (): number => {
    let n = 0;
    for (const u of uploads.values()) if (!u.importing) n += u.total - receivedOf(u);
    return n;
  };

  /** Unpacks within the free disk less what the other uploads in progress still hold. */
  const unpack = (u: Upload): Promise<void> =>
    unpackFiles(u, async () => Math.max(0, (await freeBytes(u.dir)) - held()));

  /** Takes no part from now on (those in flight are waited for); refuses an upload with bytes missing. */
  async function complete(u: Upload): Promise<void> {
    u.importing = true;
    await u.queue;
    const gap = missing(u);
    if (gap) {
      u.importing = false;
      throw new CallerError(400, `the upload is not complete: ${gap}`);
    }
  }

  return {
    async uploadStart({
      totalBytes
    }: {
      totalBytes: number;
    }): Promise<{ uploadId: string; limitBytes: number; partBytes: number }> {
      await swept;
      await expire();
      if (totalBytes > UPLOAD_LIMIT_BYTES) throw tooBig(`the upload (${totalBytes} bytes)`);
      if (uploads.size >= maxConcurrent)
        throw new CallerError(429, `${uploads.size} uploads are in progress (at most ${maxConcurrent}): try later`);
      await refuseLinks(o.workspace, [join(root, 'upload')]);
      await fs.mkdir(root, { recursive: true });
      const free = await freeBytes(root);
      // Nothing is awaited from here to uploads.set: starts at the same time see each other's bytes.
      if (uploads.size >= maxConcurrent)
        throw new CallerError(429, `${uploads.size} uploads are in progress (at most ${maxConcurrent}): try later`);
      const inFlight = held();
      if (totalBytes > free - inFlight)
        throw new CallerError(
          507,
          `the server's disk has not enough free space for ${mib(totalBytes)}` +
            (inFlight ? ` (${mib(free)} free, ${mib(inFlight)} of it held for the uploads in progress)` : '')
        );
      const uploadId = `up-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
      const dir = join(root, uploadId);
      uploads.set(uploadId, newUpload(uploadId, dir, totalBytes));
      try {
        await fs.mkdir(join(dir, 'files'), { recursive: true });
        await fs.writeFile(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid }));
      } catch (err) {
        await drop(uploadId).catch(() => undefined);
        throw err;
      }
      return { uploadId, limitBytes: UPLOAD_LIMIT_BYTES, partBytes: UPLOAD_PART_BYTES };
    },
    async uploadPart(r: {
      uploadId: string;
      path: string;
      offset: number;
      data: string;
      fileBytes?: number;
    }): Promise<{ received: number }> {
      await expire();
      const u = get(r.uploadId);
      const problem = entryNameProblem(r.path);
      if (problem)
        throw new CallerError(
          400,
          `upload path '${r.path.replace(/\0/g, '\\0').slice(0, 300)}' ${problem}: it must be a relative path with '/'`
        );
      u.lastPart = Date.now();
      const bytes = Buffer.from(r.data, 'base64');
      const write = u.queue.then(() => writePart(u, { path: r.path, offset: r.offset, bytes, fileBytes: r.fileBytes }));
      u.queue = write.catch(() => undefined);
      await write;
      u.lastPart = Date.now();
      return { received: receivedOf(u) };
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
      if (request.ann && entryNameProblem(request.ann))
        throw new CallerError(400, `annotation file '${request.ann}' must be a path inside the upload`);
      await complete(u);
      try {
        await unpack(u);
        const top = await importRoot(join(u.dir, 'folder'));
        // The folder the detection found for the format asked for (VOC: VOCdevkit/VOC2012 however deep;
        // COCO: the images folder of the JSON's split, and the JSON itself when none was named).
        const found = await detectFolderFormat(top).catch(() => null);
        const same = found?.format === request.format ? found : null;
        const folder = same?.srcPath ?? top;
        const ann = request.ann ? join(top, request.ann) : same?.annPath;
        const { jobId, done } = await o.importDataset({ ...request, src: folder, ...(ann ? { ann } : {}) });
        const remove = (): Promise<void> => drop(uploadId).catch(() => undefined);
        void done.then(remove, remove);
        return { jobId, folder };
      } catch (err) {
        await drop(uploadId);
        if (err instanceof ZipError) throw new CallerError(400, err.message);
        throw err;
      }
    },
    /** Unpacks a complete upload (a single zip, else the folder) and keeps it for a study, which names it by its id. */
    async uploadUnpack({ uploadId }: { uploadId: string }): Promise<{ uploadId: string; files: number }> {
      const u = get(uploadId);
      await complete(u);
      try {
        await unpack(u);
      } catch (err) {
        await drop(uploadId);
        if (err instanceof ZipError) throw new CallerError(400, err.message);
        throw err;
      }
      u.kept = true;
      u.lastPart = Date.now();
      const files = await fs.readdir(join(u.dir, 'folder'), { recursive: true, withFileTypes: true });
      return { uploadId, files: files.filter((e) => e.isFile()).length };
    },
    /** The folder of a kept upload (its single top folder entered); 404 for an unknown or unfinished one. */
    async keptFolder(uploadId: string): Promise<string> {
      const u = uploads.get(uploadId);
      if (!u?.kept)
        throw notFound(`upload '${uploadId}' not found (not unpacked for a study, already used, cancelled or expired)`);
      u.lastPart = Date.now();
      return importRoot(join(u.dir, 'folder'));
    },
    /**
     * The one file of a complete upload (a model file: nothing is unpacked), given to `use` (which
     * moves it away, or refuses it); the upload is removed afterwards either way.
     */
    async takeFile<T>(uploadId: string, use: (file: { name: string; path: string }) => Promise<T>): Promise<T> {
      const u = get(uploadId);
      await complete(u);
      try {
        const names = [...u.files.keys()];
        if (names.length !== 1)
          throw new CallerError(400, `upload one file, not ${names.length} (${names.slice(0, 5).join(', ')})`);
        return await use({ name: names[0], path: join(u.dir, 'files', names[0]) });
      } finally {
        await drop(uploadId).catch(() => undefined);
      }
    },
    /** Removes a kept upload (its study started, taking its files, or failed to start). */
    async reclaim(uploadId: string): Promise<void> {
      if (uploads.get(uploadId)?.kept) await drop(uploadId);
    },
    async uploadCancel({ uploadId }: { uploadId: string }): Promise<{ cancelled: boolean }> {
      const u = uploads.get(uploadId);
      if (!u || (u.importing && !u.kept)) return { cancelled: false };
      await drop(uploadId);
      return { cancelled: true };
    }
  };
}
