/*
 * COCO instances JSON: images, categories (names become classes, in id order) and annotations
 * with boxes and polygon or RLE segmentations. One sample per annotation; crowd regions
 * (iscrowd = 1) are skipped. Every entry is checked on its own, so one bad entry costs one object.
 */
import { promises as fs } from 'node:fs';
import { join, basename, extname } from 'node:path';
import { z } from 'zod';
import type { Skipped } from '../../../common/dataset';
import { formatPath } from '../../../common/schema';
import type { ResolvedImportOptions } from '../options';
import { rasterisePolygons } from '../../../common/polygon';
import { decodeCocoRle } from '../masks/rle';
import { countForeground } from '../masks/resize';
import { requireFolder } from './folder';
import {
  SkipError,
  idFragment,
  type ObjectMask,
  type SourceImage,
  type SourceListing,
  type SourceObject
} from './types';

const Num = z.number().finite();
const CocoImageSchema = z.object({
  id: Num,
  file_name: z.string().min(1),
  width: Num.optional(),
  height: Num.optional()
});
const CocoCategorySchema = z.object({ id: Num, name: z.string().min(1) });
const RleSchema = z.object({
  counts: z.union([z.array(z.number().int().min(0)), z.string()]),
  size: z.tuple([z.number().int().min(1), z.number().int().min(1)])
});
const CocoAnnotationSchema = z.object({
  id: Num.optional(),
  image_id: Num,
  category_id: Num,
  bbox: z.tuple([Num, Num, Num, Num]),
  iscrowd: z.union([z.number(), z.boolean()]).optional(),
  segmentation: z.union([z.array(z.array(Num)), RleSchema]).optional()
});
type CocoAnnotation = z.infer<typeof CocoAnnotationSchema>;

function entryProblem(kind: string, index: number, error: z.ZodError): string {
  const issue = error.issues[0];
  return `${kind}[${index}]: field ${formatPath(issue.path)}: ${issue.message}`;
}

/** Parses the list `key` of the document entry by entry; bad entries go to `skipped`. */
function parseList<T>(
  doc: Record<string, unknown>,
  key: string,
  schema: z.ZodType<T>,
  { annName, skipped }: { annName: string; skipped: Skipped[] }
): T[] {
  const list = doc[key];
  if (!Array.isArray(list))
    throw new Error(`${annName}: not a COCO instances file: field '${key}' is missing or not a list`);
  const out: T[] = [];
  for (const [i, entry] of list.entries()) {
    const r = schema.safeParse(entry);
    if (r.success) out.push(r.data);
    else skipped.push({ file: annName, reason: `${entryProblem(key, i, r.error)} — entry skipped` });
  }
  return out;
}

/** The object's mask at the image's size, or why it cannot be used. */
function annotationMask(a: CocoAnnotation, width: number, height: number): ObjectMask | null | string {
  const seg = a.segmentation;
  if (!seg || (Array.isArray(seg) && seg.length === 0)) return null;
  let data: Uint8Array;
  if (Array.isArray(seg)) {
    const bad = seg.find((p) => p.length < 6 || p.length % 2 !== 0);
    if (bad) return `a polygon has ${bad.length} numbers (needs x, y pairs for at least 3 points)`;
    data = rasterisePolygons(seg, width, height);
  } else {
    const [h, w] = seg.size;
    if (h !== height || w !== width) return `the RLE segmentation is ${w}x${h} but the image is ${width}x${height}`;
    try {
      data = decodeCocoRle(seg).data;
    } catch (err) {
      return `the RLE segmentation cannot be decoded: ${(err as Error).message}`;
    }
  }
  return countForeground(data) > 0 ? { data, origin: 'segmentation' } : null;
}

export async function listCoco(opts: ResolvedImportOptions): Promise<SourceListing> {
  await requireFolder(opts.src, 'the COCO images folder');
  const annPath = opts.ann!;
  const annName = basename(annPath);
  let text: string;
  try {
    text = await fs.readFile(annPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `the annotation file ${annPath} does not exist`
        : `${annPath}: cannot read (${(err as Error).message})`
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${annPath}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new Error(
      `${annPath}: not a COCO instances file (expected a JSON object with images, annotations, categories)`
    );
  const record = doc as Record<string, unknown>;
  const skipped: Skipped[] = [];
  const cocoImages = parseList(record, 'images', CocoImageSchema, { annName, skipped });
  const categories = parseList(record, 'categories', CocoCategorySchema, { annName, skipped });
  const annotations = parseList(record, 'annotations', CocoAnnotationSchema, { annName, skipped });

  const categoryName = new Map<number, string>();
  for (const c of [...categories].sort((a, b) => a.id - b.id)) categoryName.set(c.id, c.name);
  const imageById = new Map(cocoImages.map((im) => [im.id, im]));
  const byImage = new Map<number, { ann: CocoAnnotation; obj: SourceObject }[]>();
  for (const [i, a] of annotations.entries()) {
    const id = a.id ?? i;
    const where = `annotation ${id}`;
    if (a.iscrowd === 1 || a.iscrowd === true) {
      skipped.push({
        file: annName,
        reason: `${where} (image ${a.image_id}) is a crowd region (iscrowd) — object skipped`
      });
      continue;
    }
    const className = categoryName.get(a.category_id);
    if (className === undefined) {
      skipped.push({
        file: annName,
        reason: `${where}: category_id ${a.category_id} is not among the categories — object skipped`
      });
      continue;
    }
    if (!imageById.has(a.image_id)) {
      skipped.push({
        file: annName,
        reason: `${where}: image_id ${a.image_id} is not among the images — object skipped`
      });
      continue;
    }
    const [x, y, w, h] = a.bbox;
    const box: [number, number, number, number] = [x, y, x + w, y + h];
    const obj: SourceObject = {
      className,
      box,
      rawBox: [...box],
      boxNames: ['x', 'y', 'x + width', 'y + height'],
      index: Number.isInteger(id) && id >= 0 ? id : i
    };
    const list = byImage.get(a.image_id) ?? [];
    list.push({ ann: a, obj });
    byImage.set(a.image_id, list);
  }

  const images: SourceImage[] = [];
  for (const im of cocoImages) {
    const anns = byImage.get(im.id);
    if (!anns) continue;
    const name = im.file_name.replace(/\\/g, '/');
    if (name.startsWith('/') || name.split('/').includes('..')) {
      skipped.push({
        file: annName,
        reason: `image ${im.id}: file_name '${im.file_name}' points outside the images folder — ${anns.length} objects skipped`
      });
      continue;
    }
    const annByObject = new Map(anns.map((a) => [a.obj, a.ann]));
    images.push({
      file: name,
      path: join(opts.src, name),
      annotation: annName,
      split: null,
      idBase: idFragment(basename(name, extname(name))),
      objects: anns.map((a) => a.obj),
      masks: async (width, height, wanted) => {
        if ((im.width !== undefined && im.width !== width) || (im.height !== undefined && im.height !== height)) {
          throw new SkipError(
            annName,
            `image ${im.id} (${name}) is listed as ${im.width}x${im.height} but the file is ${width}x${height}`
          );
        }
        return wanted.map((o) => annotationMask(annByObject.get(o)!, width, height));
      }
    });
  }
  const used = new Set(images.flatMap((im) => im.objects.map((o) => o.className)));
  return { classes: [...categoryName.values()].filter((c) => used.has(c)), images, skipped };
}
