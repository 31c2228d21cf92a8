/*
 * The networks of the "Analyse trained networks" form, one row each: role, name, method, and
 * where its checkpoint series is: a folder on the server, or an upload from this computer that
 * the server unpacked and keeps for the study (uploadUnpack). Uploading and dropping an upload
 * live here so the form and its folder cell share them. No Vue.
 */
import type { StudyRole } from '../../../common/study-source';
import type { StudyRequest } from '../../../common/study';
import { getApi } from '../api';
import { filesFromInput, uploadForStudy } from '../api/upload';

export interface StudyRow {
  role: StudyRole;
  name: string;
  method: string;
  folder: string;
  /** A folder or zip uploaded from this computer, unpacked and kept on the server for this study. */
  upload: { id: string; label: string } | null;
  /** Upload progress, 0..1, while sending. */
  sending: number | null;
}

export const newRow = (role: StudyRole, name: string): StudyRow => ({
  role,
  name,
  method: '',
  folder: '',
  upload: null,
  sending: null
});

/** The row as the request names it: by upload id, else by folder. */
export const requestNetwork = (r: StudyRow): StudyRequest['networks'][number] => ({
  role: r.role,
  name: r.name.trim(),
  ...(r.method.trim() ? { method: r.method.trim() } : {}),
  ...(r.upload ? { upload: r.upload.id } : { folder: r.folder.trim() })
});

/** Drops a row's upload on the server (a study that started or failed to start has taken it already). */
export async function forgetUpload(r: StudyRow): Promise<void> {
  const id = r.upload?.id;
  r.upload = null;
  if (id)
    await getApi()
      .uploadCancel({ uploadId: id })
      .catch(() => undefined);
}

/** Sends the files picked in `input` (a folder via webkitdirectory, or a zip) as the row's series; resolves false when nothing was picked. */
export async function uploadPicked(r: StudyRow, input: HTMLInputElement): Promise<boolean> {
  const files = input.files?.length ? filesFromInput(input.files) : [];
  input.value = ''; // picking the same folder again must fire a change event
  if (!files.length) return false;
  await forgetUpload(r);
  r.sending = 0;
  try {
    const got = await uploadForStudy(getApi(), files, { onProgress: (sent, total) => (r.sending = sent / total) });
    const top = files.length === 1 ? files[0].path : files[0].path.split('/')[0];
    r.upload = { id: got.uploadId, label: `${top} (${got.files} files, uploaded)` };
    return true;
  } finally {
    r.sending = null;
  }
}
