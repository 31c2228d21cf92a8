/*
 * The import pipeline shared by every format: pick the classes and objects asked for, decode each
 * source image once, check boxes against it, crop (box enlarged about its centre), resize image
 * and mask to the working size, write them, and draw a split where the source has none. Every
 * problem skips the least it can (an object, else an image) and is recorded with its file and
 * reason; nothing here throws for bad input.
 */
import { promises as fs } from 'node:fs';
import type { MaskOrigin, Sample, Skipped } from '../../common/dataset';
import { Rng, hashSeed } from '../util/random';
import type { ResolvedImportOptions } from './options';
import { boxProblem, boxSize, boxMask, centreRegionMask, clampBox, cropRect, type Box } from './geometry';
import { resizeMask } from './masks/resize';
import { cropToPng, readRgb, describeDecodeFailure, encodeMaskPng, type RgbImage } from '../io/images';
import { stratifiedSplit } from './split';
import type { DatasetWriter } from './store';
import { SkipError, type ObjectMask, type SourceImage, type SourceListing, type SourceObject } from './importers/types';

/** Source images decoded at the same time (sharp runs them on its own threads). */
const CONCURRENCY = 4;

export interface BuildResult {
  samples: Sample[];
  classes: string[];
  skipped: Skipped[];
}

interface Pending {
  obj: SourceObject;
  box: Box | null;
  crop: Box;
  origin: MaskOrigin;
  imagePng: Buffer;
  maskPng: Buffer;
}

/** Whether source class `name` is what the user asked for as `wanted` ('001.Black_footed_Albatross' also answers to 'Black_footed_Albatross'). */
function classMatches(name: string, wanted: string): boolean {
  return name === wanted || name.replace(/^\d+\./, '') === wanted;
}

function objectLabel(image: SourceImage, o: SourceObject): string {
  return o.index !== null ? `object ${o.index} (${o.className})` : `${image.file} (${o.className})`;
}

function oneSkipped(o: SourceObject): string {
  return o.index === null ? 'image skipped' : 'object skipped';
}

function skipSuffix(objects: SourceObject[]): string {
  if (objects.length === 1 && objects[0].index === null) return 'image skipped';
  return `${objects.length} object${objects.length === 1 ? '' : 's'} skipped`;
}

/** Decodes one image and turns the wanted objects into encoded crops and masks. */
async function processImage(
  image: SourceImage,
  objects: SourceObject[],
  opts: ResolvedImportOptions,
  skipped: Skipped[]
): Promise<Pending[]> {
  const exists = await fs.access(image.path).then(
    () => true,
    () => false
  );
  if (!exists) {
    if (image.annotation === image.file)
      skipped.push({ file: image.file, reason: `file not found — ${skipSuffix(objects)}` });
    else
      skipped.push({
        file: image.annotation,
        reason: `its image ${image.file} does not exist — ${skipSuffix(objects)}`
      });
    return [];
  }
  let decoded: RgbImage;
  try {
    decoded = await readRgb(image.path);
  } catch (err) {
    skipped.push({
      file: image.file,
      reason: `${await describeDecodeFailure(image.path, err)} — ${skipSuffix(objects)}`
    });
    return [];
  }
  const { width: W, height: H } = decoded;
  const valid: SourceObject[] = [];
  for (const o of objects) {
    const problem = o.box ? boxProblem(o.box, { width: W, height: H }, { raw: o.rawBox, names: o.boxNames }) : null;
    if (problem)
      skipped.push({
        file: o.boxFile ?? image.annotation,
        reason: `${objectLabel(image, o)}: ${problem} — ${oneSkipped(o)}`
      });
    else if (!o.box && Math.min(W, H) < opts.minSize)
      skipped.push({
        file: image.file,
        reason: `the image is ${W}x${H} px, smaller than the minimum size ${opts.minSize} — image skipped`
      });
    else valid.push(o);
  }
  if (valid.length === 0) return [];
  let masks: (ObjectMask | null | string)[] = valid.map(() => null);
  if (image.masks) {
    try {
      masks = await image.masks(W, H, valid);
    } catch (err) {
      if (err instanceof SkipError) skipped.push({ file: err.file, reason: `${err.reason} — ${skipSuffix(valid)}` });
      else
        skipped.push({
          file: image.annotation,
          reason: `cannot read the masks: ${(err as Error).message} — ${skipSuffix(valid)}`
        });
      return [];
    }
  }
  const out: Pending[] = [];
  for (const [i, o] of valid.entries()) {
    const m = masks[i];
    if (typeof m === 'string') {
      skipped.push({ file: image.annotation, reason: `${objectLabel(image, o)}: ${m} — ${oneSkipped(o)}` });
      continue;
    }
    const box = o.box ? clampBox(o.box, W, H) : null;
    const crop: Box = box ? cropRect(box, opts.cropScale, W, H) : [0, 0, W, H];
    const full = m ? m.data : box ? boxMask(box, W, H) : null;
    const small = full
      ? resizeMask({ data: full, width: W, height: H }, crop, opts.size)
      : opts.centreRegion
        ? centreRegionMask(opts.size)
        : new Uint8Array(opts.size * opts.size).fill(1);
    const origin: MaskOrigin = m ? m.origin : box ? 'box' : opts.centreRegion ? 'centre' : 'whole';
    out.push({
      obj: o,
      box,
      crop,
      origin,
      imagePng: await cropToPng(decoded, crop, opts.size),
      maskPng: await encodeMaskPng(opts.size, opts.size, small)
    });
  }
  return out;
}

/** Picks the classes asked for (all when none); a requested class the source lacks is reported. */
function selectClasses(listing: SourceListing, wanted: string[] | null, skipped: Skipped[]): Set<string> {
  if (!wanted) return new Set(listing.classes);
  const selected = new Set<string>();
  for (const w of wanted) {
    const hits = listing.classes.filter((c) => classMatches(c, w));
    if (hits.length === 0)
      skipped.push({
        file: 'classes',
        reason: `class '${w}' does not occur in the source (its classes: ${listing.classes.slice(0, 8).join(', ')}${listing.classes.length > 8 ? ', ...' : ''})`
      });
    for (const h of hits) selected.add(h);
  }
  return selected;
}

/** Runs the pipeline over a listing, writing through `writer`. */
export async function buildSamples(
  listing: SourceListing,
  opts: ResolvedImportOptions,
  writer: DatasetWriter,
  onProgress?: (done: number, total: number, text: string) => void
): Promise<BuildResult> {
  const skipped: Skipped[] = [...listing.skipped];
  const selected = selectClasses(listing, opts.classes, skipped);
  const work: { image: SourceImage; objects: SourceObject[]; order: number }[] = [];
  for (const [order, image] of listing.images.entries()) {
    const objects: SourceObject[] = [];
    for (const o of image.objects) {
      if (!selected.has(o.className)) {
        skipped.push({
          file: image.annotation,
          reason: `${objectLabel(image, o)}: class '${o.className}' is not among the classes asked for — ${oneSkipped(o)}`
        });
        continue;
      }
      const problem = o.box ? boxProblem(o.box, null, { raw: o.rawBox, names: o.boxNames }) : null;
      const size = o.box && !problem ? boxSize(o.box) : null;
      if (problem)
        skipped.push({
          file: o.boxFile ?? image.annotation,
          reason: `${objectLabel(image, o)}: ${problem} — ${oneSkipped(o)}`
        });
      else if (size && Math.min(size.width, size.height) < opts.minSize) {
        skipped.push({
          file: o.boxFile ?? image.annotation,
          reason: `${objectLabel(image, o)}: the object is ${size.width}x${size.height} px, smaller than the minimum size ${opts.minSize} — ${oneSkipped(o)}`
        });
      } else objects.push(o);
    }
    if (objects.length > 0) work.push({ image, objects, order });
  }
  if (opts.maxPerClass !== null) new Rng(hashSeed(opts.seed, 0x6d6178)).shuffle(work);

  const max = opts.maxPerClass ?? Infinity;
  const overCap = (image: SourceImage, o: SourceObject): Skipped => ({
    file: image.annotation,
    reason: `${objectLabel(image, o)}: class '${o.className}' already has ${max} samples (the most per class asked for) — ${oneSkipped(o)}`
  });
  const count = new Map<string, number>();
  const accepted: {
    sample: Omit<Sample, 'label' | 'split'> & { className: string; sourceSplit: Sample['split'] | null };
    order: number;
    sub: number;
  }[] = [];
  const usedIds = new Set<string>();
  let done = 0;
  for (let start = 0; start < work.length; start += CONCURRENCY) {
    if (opts.maxPerClass !== null && [...selected].every((c) => (count.get(c) ?? 0) >= max)) {
      for (const w of work.slice(start)) for (const o of w.objects) skipped.push(overCap(w.image, o));
      break;
    }
    const chunk = work.slice(start, start + CONCURRENCY);
    const reserved = new Map<string, number>();
    const planned = chunk.map((w) => {
      const objects = w.objects.filter((o) => {
        const n = (count.get(o.className) ?? 0) + (reserved.get(o.className) ?? 0);
        if (n >= max) {
          skipped.push(overCap(w.image, o));
          return false;
        }
        reserved.set(o.className, (reserved.get(o.className) ?? 0) + 1);
        return true;
      });
      return { ...w, objects };
    });
    const chunkSkipped: Skipped[][] = planned.map(() => []);
    const results = await Promise.all(
      planned.map((w, i) =>
        w.objects.length > 0 ? processImage(w.image, w.objects, opts, chunkSkipped[i]) : Promise.resolve([])
      )
    );
    for (const [i, w] of planned.entries()) {
      skipped.push(...chunkSkipped[i]);
      for (const [sub, p] of results[i].entries()) {
        const base = w.image.idBase + (p.obj.index !== null ? `-${p.obj.index}` : '');
        let id = base;
        for (let k = 2; usedIds.has(id); k++) id = `${base}-${k}`;
        usedIds.add(id);
        const files = await writer.writeSample(id, p.imagePng, p.maskPng);
        count.set(p.obj.className, (count.get(p.obj.className) ?? 0) + 1);
        accepted.push({
          sample: {
            id,
            ...files,
            box: p.box,
            crop: p.crop,
            maskOrigin: p.origin,
            source: { file: w.image.file, object: p.obj.index },
            edited: false,
            className: p.obj.className,
            sourceSplit: w.image.split
          },
          order: w.order,
          sub
        });
      }
      done++;
      onProgress?.(done, work.length, w.image.file);
    }
  }
  accepted.sort((a, b) => a.order - b.order || a.sub - b.sub);
  const classes = listing.classes.filter((c) => (count.get(c) ?? 0) > 0);
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const labels = accepted.map((a) => labelOf.get(a.sample.className)!);
  // Samples the source gives no split are split by class, among themselves.
  const unsplit = accepted.flatMap((a, i) => (a.sample.sourceSplit === null ? [i] : []));
  const drawn = stratifiedSplit(
    unsplit.map((i) => labels[i]),
    opts.valFraction,
    opts.seed
  );
  const splitOf = new Map(unsplit.map((i, k) => [i, drawn[k]]));
  const samples: Sample[] = accepted.map(({ sample }, i) => {
    const { className: _c, sourceSplit, ...rest } = sample;
    return { ...rest, label: labels[i], split: sourceSplit ?? splitOf.get(i)! };
  });
  return { samples, classes, skipped };
}
