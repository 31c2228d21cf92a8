/*
 * CUB-200-2011: images.txt, classes.txt, image_class_labels.txt, bounding_boxes.txt,
 * train_test_split.txt and, when present, segmentations/ (soft masks, thresholded). One bird per
 * image, so one sample per image. CUB has no validation set: its test images become 'val'.
 */
import { promises as fs } from 'node:fs';
import { join, basename, extname } from 'node:path';
import type { Skipped, Split } from '../../../common/dataset';
import type { ResolvedImportOptions } from '../options';
import type { Box } from '../geometry';
import { readMaskGrey, describeDecodeFailure } from '../../io/images';
import { requireFolder } from './folder';
import { SkipError, idFragment, type SourceImage, type SourceListing } from './types';

interface Row {
  line: number;
  fields: string[];
}

/**
 * Rows of a whitespace-separated table whose first `columns - 1` fields are single words and whose
 * last field takes the rest of the line. Returns null when the file is absent (and not required).
 */
async function readTable(
  root: string,
  { name, columns, layout, required }: { name: string; columns: number; layout: string; required: boolean },
  skipped: Skipped[]
): Promise<Row[] | null> {
  let text: string;
  try {
    text = await fs.readFile(join(root, name), 'utf8');
  } catch {
    if (required)
      throw new Error(
        `${join(root, name)} does not exist (a CUB-200-2011 folder has images.txt, classes.txt, image_class_labels.txt, bounding_boxes.txt, train_test_split.txt, images/)`
      );
    return null;
  }
  const rows: Row[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const parts = trimmed.split(/\s+/);
    if (parts.length < columns) {
      skipped.push({
        file: name,
        reason: `line ${i + 1}: expected "${layout}", found "${trimmed.slice(0, 60)}" — line skipped`
      });
      continue;
    }
    rows.push({ line: i + 1, fields: [...parts.slice(0, columns - 1), parts.slice(columns - 1).join(' ')] });
  }
  return rows;
}

export async function listCub(opts: ResolvedImportOptions): Promise<SourceListing> {
  await requireFolder(opts.src, 'the CUB folder');
  let root = opts.src;
  try {
    await fs.access(join(root, 'images.txt'));
  } catch {
    try {
      await fs.access(join(root, 'CUB_200_2011', 'images.txt'));
      root = join(root, 'CUB_200_2011');
    } catch {
      /* reported by readTable below */
    }
  }
  const skipped: Skipped[] = [];
  const imageRows = (await readTable(
    root,
    { name: 'images.txt', columns: 2, layout: '<image_id> <image_name>', required: true },
    skipped
  ))!;
  const classRows = (await readTable(
    root,
    { name: 'classes.txt', columns: 2, layout: '<class_id> <class_name>', required: true },
    skipped
  ))!;
  const labelRows = (await readTable(
    root,
    { name: 'image_class_labels.txt', columns: 2, layout: '<image_id> <class_id>', required: true },
    skipped
  ))!;
  const boxRows = await readTable(
    root,
    { name: 'bounding_boxes.txt', columns: 5, layout: '<image_id> <x> <y> <width> <height>', required: false },
    skipped
  );
  const splitRows = await readTable(
    root,
    { name: 'train_test_split.txt', columns: 2, layout: '<image_id> <is_training_image>', required: false },
    skipped
  );

  const classById = new Map<string, string>();
  for (const r of classRows) classById.set(r.fields[0], r.fields[1]);
  const labelById = new Map<string, Row>();
  for (const r of labelRows) labelById.set(r.fields[0], r);
  const boxById = new Map<string, Row>();
  for (const r of boxRows ?? []) boxById.set(r.fields[0], r);
  const splitById = new Map<string, Split>();
  for (const r of splitRows ?? []) {
    if (r.fields[1] === '1' || r.fields[1] === '0') splitById.set(r.fields[0], r.fields[1] === '1' ? 'train' : 'val');
    else
      skipped.push({
        file: 'train_test_split.txt',
        reason: `line ${r.line}: is_training_image must be 0 or 1, found "${r.fields[1]}" — seeded split used`
      });
  }

  const images: SourceImage[] = [];
  for (const row of imageRows) {
    const [id, name] = row.fields;
    const label = labelById.get(id);
    if (!label) {
      skipped.push({
        file: 'images.txt',
        reason: `line ${row.line}: image ${id} (${name}) has no class in image_class_labels.txt — image skipped`
      });
      continue;
    }
    const className = classById.get(label.fields[1]);
    if (!className) {
      skipped.push({
        file: 'image_class_labels.txt',
        reason: `line ${label.line}: image ${id} has class ${label.fields[1]}, which is not in classes.txt — image skipped`
      });
      continue;
    }
    let box: Box | null = null;
    let rawBox: Box | undefined;
    if (boxRows) {
      const b = boxById.get(id);
      if (!b) {
        skipped.push({ file: 'bounding_boxes.txt', reason: `image ${id} (${name}) has no box — image skipped` });
        continue;
      }
      const [x, y, w, h] = b.fields.slice(1, 5).map(Number);
      box = [x, y, x + w, y + h];
      rawBox = [x, y, x + w, y + h];
    }
    const segRel = `segmentations/${name.slice(0, name.length - extname(name).length)}.png`;
    const segPath = join(root, segRel);
    const image: SourceImage = {
      file: `images/${name}`,
      path: join(root, 'images', name),
      annotation: 'images.txt',
      split: splitById.get(id) ?? null,
      idBase: idFragment(basename(name, extname(name))),
      objects: [
        {
          className,
          box,
          rawBox,
          boxNames: ['x', 'y', 'x + width', 'y + height'],
          boxFile: 'bounding_boxes.txt',
          index: null
        }
      ]
    };
    let hasSeg = false;
    try {
      await fs.access(segPath);
      hasSeg = true;
    } catch {
      hasSeg = false;
    }
    if (hasSeg) {
      image.masks = async (width, height) => {
        let grey;
        try {
          grey = await readMaskGrey(segPath);
        } catch (err) {
          throw new SkipError(segRel, await describeDecodeFailure(segPath, err));
        }
        if (grey.width !== width || grey.height !== height)
          throw new SkipError(
            segRel,
            `the segmentation is ${grey.width}x${grey.height} but the image is ${width}x${height}`
          );
        const data = new Uint8Array(grey.data.length);
        for (let i = 0; i < data.length; i++) data[i] = grey.data[i] > opts.maskThreshold ? 1 : 0;
        return [{ data, origin: 'segmentation' }];
      };
    }
    images.push(image);
  }
  const used = new Set(images.map((im) => im.objects[0].className));
  return { classes: classRows.map((r) => r.fields[1]).filter((c) => used.has(c)), images, skipped };
}
