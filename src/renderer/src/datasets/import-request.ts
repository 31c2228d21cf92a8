/*
 * The import wizard's fields as the request the server takes: the detected root folder when its format
 * is the one chosen (VOCdevkit/VOC2012, COCO's val2017), numbers only where typed, the class list split on
 * commas; and what is wrong with it, by field, from the same schema the server checks it with.
 */
import type { ImportRequest } from '../../../common/api';
import { API_REQUEST_SCHEMAS } from '../../../common/api-schemas';

/** The wizard's fields as typed (numbers as text). */
export interface ImportFields {
  format: ImportRequest['format'];
  /** The folder a detection found for `format` (null: none, or detected for another format). */
  detectedFolder: string | null;
  /** The folder the server confirmed ("Use this folder" or the dialog), else null. */
  usedFolder: string | null;
  src: string;
  ann: string;
  name: string;
  size: string;
  cropScale: string;
  classes: string;
  maxPerClass: string;
  minSize: string;
  centreRegion: boolean;
}

const num = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));

/** The request for the fields. */
export function importRequest(f: ImportFields): ImportRequest {
  const r: ImportRequest = {
    format: f.format,
    src: f.detectedFolder ?? f.usedFolder ?? f.src.trim(),
    name: f.name.trim()
  };
  if (f.ann.trim() && (f.format === 'coco' || f.format === 'folder')) r.ann = f.ann.trim();
  for (const [key, text] of [
    ['size', f.size],
    ['cropScale', f.cropScale],
    ['maxPerClass', f.maxPerClass],
    ['minSize', f.minSize]
  ] as const) {
    const v = num(text);
    if (v !== undefined) r[key] = v;
  }
  const list = f.classes
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (list.length) r.classes = list;
  if (f.format === 'folder' && f.centreRegion) r.centreRegion = true;
  return r;
}

/** The first problem of each field of the request ('request' for one without a field). */
export function importProblems(r: ImportRequest): Record<string, string> {
  const parsed = API_REQUEST_SCHEMAS.importDataset.safeParse(r);
  const out: Record<string, string> = {};
  if (!parsed.success) for (const i of parsed.error.issues) out[String(i.path[0] ?? 'request')] ??= i.message;
  if (r.format === 'coco' && !r.ann) out.ann = 'COCO needs its annotations file (instances_*.json)';
  return out;
}
