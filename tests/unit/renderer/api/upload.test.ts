// @vitest-environment happy-dom
/* The browser's side of an upload: parts of the server's size, progress, the import request, and cancel. */
import { describe, expect, it } from 'vitest';
import { uploadAndImport, UploadCancelled } from '../../../../src/renderer/src/api/upload';
import { FakeApi } from '../fake-api';

describe('uploadAndImport', () => {
  it('sends each file in parts (4 bytes here), reports progress, then starts the import', async () => {
    const api = new FakeApi();
    const progress: number[] = [];
    const files = [
      { path: 'shapes/a.png', blob: new Blob(['0123456789']) },
      { path: 'shapes/b.png', blob: new Blob(['xy']) }
    ];
    const jobId = await uploadAndImport(
      api,
      files,
      { format: 'folder', name: 'shapes' },
      { onProgress: (sent) => progress.push(sent) }
    );
    expect(jobId).toBe('job-up');
    expect(api.callsOf('uploadStart')).toEqual([{ totalBytes: 12 }]);
    expect(
      (api.callsOf('uploadPart') as { path: string; offset: number }[]).map((p) => `${p.path}@${p.offset}`)
    ).toEqual(['shapes/a.png@0', 'shapes/a.png@4', 'shapes/a.png@8', 'shapes/b.png@0']);
    expect(new TextDecoder().decode(api.uploaded.get('shapes/a.png'))).toBe('0123456789');
    expect(progress).toEqual([4, 8, 10, 12]);
    expect(api.callsOf('uploadFinish')).toEqual([{ uploadId: 'up-1', request: { format: 'folder', name: 'shapes' } }]);
  });

  it('cancel stops sending and asks the server to drop the upload', async () => {
    const api = new FakeApi();
    const controller = new AbortController();
    const run = uploadAndImport(
      api,
      [{ path: 'a', blob: new Blob(['0123456789']) }],
      { format: 'folder', name: 'a' },
      { signal: controller.signal, onProgress: () => controller.abort() }
    );
    await expect(run).rejects.toBeInstanceOf(UploadCancelled);
    expect(api.callsOf('uploadPart')).toHaveLength(1);
    expect(api.callsOf('uploadCancel')).toEqual([{ uploadId: 'up-1' }]);
    expect(api.callsOf('uploadFinish')).toEqual([]);
  });
});
