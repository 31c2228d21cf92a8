/*
 * Pascal VOC 2012: Annotations/*.xml (objects and boxes), JPEGImages/, SegmentationObject/ and
 * SegmentationClass/ label PNGs where present, ImageSets/ splits. One sample per <object>. Reads
 * and checks the annotations; a malformed file or object is skipped with its reason, never guessed.
 */
import { promises as fs } from 'node:fs';
import { join, basename } from 'node:path';
import type { Skipped, Split } from '../../../common/dataset';
import type { ResolvedImportOptions } from '../options';
import type { Box } from '../geometry';
import { parseXml, xmlChild, xmlChildren, xmlText, type XmlElement } from '../xml';
import { decodeLabels, describeDecodeFailure } from '../../io/images';
import { VOC_CLASSES, labelIndices, instanceMask, classMask } from '../masks/voc';
import { countForeground } from '../masks/resize';
import { clampBox } from '../geometry';
import { requireFolder } from './folder';
import {
  SkipError,
  idFragment,
  type ObjectMask,
  type SourceImage,
  type SourceListing,
  type SourceObject
} from './types';

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

/** Image id -> split from ImageSets/Segmentation and ImageSets/Main train/val lists (Segmentation first). */
async function readSplits(root: string): Promise<Map<string, Split>> {
  const splits = new Map<string, Split>();
  for (const set of ['Segmentation', 'Main']) {
    for (const split of ['train', 'val'] as const) {
      let text: string;
      try {
        text = await fs.readFile(join(root, 'ImageSets', set, `${split}.txt`), 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split(/\r?\n/)) {
        const id = line.trim().split(/\s+/)[0];
        if (id && !splits.has(id)) splits.set(id, split);
      }
    }
  }
  return splits;
}

/** Reads one <object>: its class and box (VOC's 1-based inclusive pixels become edges), or why not. */
function readObject(o: XmlElement, index: number): SourceObject | string {
  const name = xmlText(o, 'name');
  if (!name) return `object ${index} has no <name>`;
  const bb = xmlChild(o, 'bndbox');
  if (!bb) return `object ${index} (${name}) has no <bndbox>`;
  const fields = ['xmin', 'ymin', 'xmax', 'ymax'];
  const raw = fields.map((f) => {
    const t = xmlText(bb, f);
    return t === undefined || t === '' ? NaN : Number(t);
  }) as Box;
  const missing = fields.filter((_, i) => !Number.isFinite(raw[i]));
  if (missing.length > 0) return `object ${index} (${name}): <bndbox> has no numeric ${missing.join(', ')}`;
  return { className: name, box: [raw[0] - 1, raw[1] - 1, raw[2], raw[3]], rawBox: raw, boxNames: fields, index };
}

/** The class order: VOC's 20 classes in their order, then any others alphabetically. */
function orderClasses(names: Set<string>): string[] {
  const known = VOC_CLASSES.filter((c) => names.has(c));
  const other = [...names].filter((c) => !(VOC_CLASSES as readonly string[]).includes(c)).sort();
  return [...known, ...other];
}

async function readLabelImage(path: string, rel: string, width: number, height: number): Promise<Uint8Array> {
  let decoded;
  try {
    decoded = await decodeLabels(path);
  } catch (err) {
    throw new SkipError(rel, await describeDecodeFailure(path, err));
  }
  if (decoded.width !== width || decoded.height !== height)
    throw new SkipError(
      rel,
      `the segmentation is ${decoded.width}x${decoded.height} but the image is ${width}x${height}`
    );
  try {
    return labelIndices(decoded);
  } catch (err) {
    throw new SkipError(rel, (err as Error).message);
  }
}

export async function listVoc(opts: ResolvedImportOptions): Promise<SourceListing> {
  await requireFolder(opts.src, 'the VOC folder');
  let root = opts.src;
  if (!(await exists(join(root, 'Annotations'))) && (await exists(join(root, 'VOC2012', 'Annotations'))))
    root = join(root, 'VOC2012');
  const annDir = join(root, 'Annotations');
  if (!(await exists(annDir)))
    throw new Error(
      `${opts.src} has no Annotations folder (expected a VOC root with Annotations/, JPEGImages/, SegmentationObject/, ImageSets/)`
    );
  const xmlFiles = (await fs.readdir(annDir))
    .filter((f) => f.toLowerCase().endsWith('.xml') && !f.startsWith('.'))
    .sort();
  if (xmlFiles.length === 0) throw new Error(`${annDir} has no .xml annotation files`);
  const splits = await readSplits(root);
  const skipped: Skipped[] = [];
  const images: SourceImage[] = [];
  const names = new Set<string>();

  for (const xmlName of xmlFiles) {
    const stem = basename(xmlName, '.xml');
    const annotation = `Annotations/${xmlName}`;
    let doc: XmlElement;
    try {
      doc = parseXml(await fs.readFile(join(annDir, xmlName), 'utf8'));
    } catch (err) {
      skipped.push({ file: annotation, reason: `${(err as Error).message} — file skipped` });
      continue;
    }
    if (doc.name !== 'annotation') {
      skipped.push({
        file: annotation,
        reason: `the root element is <${doc.name}>, expected <annotation> — file skipped`
      });
      continue;
    }
    const objects: SourceObject[] = [];
    for (const [k, o] of xmlChildren(doc, 'object').entries()) {
      const obj = readObject(o, k);
      if (typeof obj === 'string') skipped.push({ file: annotation, reason: `${obj} — object skipped` });
      else objects.push(obj);
    }
    if (objects.length === 0) {
      if (xmlChildren(doc, 'object').length === 0)
        skipped.push({ file: annotation, reason: 'no <object> in this annotation — file skipped' });
      continue;
    }
    for (const o of objects) names.add(o.className);
    const filename = xmlText(doc, 'filename') || `${stem}.jpg`;
    const objectPng = join(root, 'SegmentationObject', `${stem}.png`);
    const classPng = join(root, 'SegmentationClass', `${stem}.png`);
    const image: SourceImage = {
      file: `JPEGImages/${filename}`,
      path: join(root, 'JPEGImages', filename),
      annotation,
      split: splits.get(stem) ?? null,
      idBase: idFragment(stem),
      objects
    };
    const hasObject = await exists(objectPng);
    const hasClass = !hasObject && (await exists(classPng));
    if (hasObject || hasClass) {
      image.masks = async (width, height, wanted) => {
        const path = hasObject ? objectPng : classPng;
        const rel = hasObject ? `SegmentationObject/${stem}.png` : `SegmentationClass/${stem}.png`;
        const labels = await readLabelImage(path, rel, width, height);
        return wanted.map((o): ObjectMask | null => {
          let data: Uint8Array;
          if (hasObject) data = instanceMask({ data: labels, width, height }, (o.index ?? 0) + 1);
          else {
            const label = (VOC_CLASSES as readonly string[]).indexOf(o.className) + 1;
            if (label === 0 || !o.box) return null;
            data = classMask({ data: labels, width, height }, label, clampBox(o.box, width, height));
          }
          return countForeground(data) > 0 ? { data, origin: 'segmentation' } : null;
        });
      };
    }
    images.push(image);
  }
  return { classes: orderClasses(names), images, skipped };
}
