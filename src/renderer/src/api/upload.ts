/*
 * Uploading a dataset from this computer to a remote `kd-lens serve`: the files of a dropped or
 * picked folder (or one zip) are sent in base64 parts of the size the server asks for, with
 * progress and cancel, then imported like a folder on the server (or, for a study's network, unpacked
 * and kept for the study; or, for an ONNX model, checked and kept in models/). Also: the files of a drop,
 * folders walked through the browser's entry API.
 */
import type { ImportRequest, KdApi } from '../../../common/api';
import { zipEntryNames } from '../../../common/zip-names';

export interface UploadFile {
  /** Relative path with '/', e.g. "birds/images/a.png". */
  path: string;
  blob: Blob;
}

export class UploadCancelled extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelled';
  }
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

interface SendOptions {
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** Sends every file, then `finish`es the upload; on any failure or cancel the upload is cancelled on the server. */
async function send<T>(
  api: KdApi,
  files: readonly UploadFile[],
  opts: SendOptions & { finish: (uploadId: string) => Promise<T> }
): Promise<T> {
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  if (files.length === 0 || total === 0) throw new Error('nothing to upload: drop a folder or a .zip file');
  const { uploadId, partBytes } = await api.uploadStart({ totalBytes: total });
  let sent = 0;
  try {
    for (const f of files) {
      for (let offset = 0; offset < f.blob.size || (offset === 0 && f.blob.size === 0); offset += partBytes) {
        if (opts.signal?.aborted) throw new UploadCancelled();
        const bytes = new Uint8Array(await f.blob.slice(offset, offset + partBytes).arrayBuffer());
        await api.uploadPart({ uploadId, path: f.path, offset, data: base64(bytes), fileBytes: f.blob.size });
        sent += bytes.length;
        opts.onProgress?.(sent, total);
        if (f.blob.size === 0) break;
      }
    }
    if (opts.signal?.aborted) throw new UploadCancelled();
    return await opts.finish(uploadId);
  } catch (err) {
    await api.uploadCancel({ uploadId }).catch(() => undefined);
    throw err;
  }
}

/** Sends every file, then starts the import; resolves with the import job's id. */
export async function uploadAndImport(
  api: KdApi,
  files: readonly UploadFile[],
  request: Omit<ImportRequest, 'src'>,
  opts: SendOptions = {}
): Promise<string> {
  return send(api, files, {
    ...opts,
    finish: async (uploadId) => (await api.uploadFinish({ uploadId, request })).jobId
  });
}

/** Sends a network's checkpoint folder (or a zip of it) for a study and has the server unpack and keep it; resolves with the upload's id. */
export async function uploadForStudy(
  api: KdApi,
  files: readonly UploadFile[],
  opts: SendOptions = {}
): Promise<{ uploadId: string; files: number }> {
  return send(api, files, { ...opts, finish: (uploadId) => api.uploadUnpack({ uploadId }) });
}

/** Sends one .onnx file and has the server check it and keep it in the workspace's models/; resolves with its path there. */
export async function uploadOnnxModel(
  api: KdApi,
  file: UploadFile,
  opts: SendOptions = {}
): Promise<{ path: string; bytes: number }> {
  return send(api, [file], { ...opts, finish: (uploadId) => api.uploadOnnxModel({ uploadId }) });
}

interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  file?: (ok: (f: File) => void, fail: (e: unknown) => void) => void;
  createReader?: () => { readEntries: (ok: (e: EntryLike[]) => void, fail: (e: unknown) => void) => void };
}

async function walk(entry: EntryLike, prefix: string, out: UploadFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile && entry.file) {
    out.push({ path, blob: await new Promise<File>((ok, fail) => entry.file!(ok, fail)) });
  } else if (entry.isDirectory && entry.createReader) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, path, out);
    }
  }
}

/** The files of a drop: folders walked recursively (paths keep the folder's name), plain files as they are. */
export async function filesFromDrop(data: DataTransfer): Promise<UploadFile[]> {
  const out: UploadFile[] = [];
  const entries = [...data.items].map(
    (i) => (i as DataTransferItem & { webkitGetAsEntry?: () => EntryLike | null }).webkitGetAsEntry?.() ?? null
  );
  if (entries.some((e) => e))
    for (const e of entries)
      if (e) await walk(e, '', out);
      else for (const f of [...data.files]) out.push({ path: f.name, blob: f });
  return out;
}

/** The files of an <input type="file" webkitdirectory> (or a picked zip). */
export function filesFromInput(list: FileList): UploadFile[] {
  return [...list].map((f) => ({
    path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name,
    blob: f
  }));
}

/** The relative paths inside what is being uploaded: a single zip's entries, else the files' own paths. */
export async function uploadedNames(files: readonly UploadFile[]): Promise<string[] | null> {
  if (files.length === 1 && files[0].path.toLowerCase().endsWith('.zip')) return zipEntryNames(files[0].blob);
  return files.map((f) => f.path);
}
