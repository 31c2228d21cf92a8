/*
 * Pascal VOC segmentation labels: the VOC colour palette, label images to indices, and one
 * object's foreground from an instance (SegmentationObject) or class (SegmentationClass) label
 * image, with the 255 "void" band that VOC draws around every object. Pure arithmetic; decoding
 * the PNG is the caller's job.
 */
import type { Box } from '../geometry';
import type { GreyImage } from '../../io/images';

/** VOC 2012's 20 classes; index i + 1 in SegmentationClass images. */
export const VOC_CLASSES = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor'
] as const;

/** The label of VOC's void band (object borders and regions nobody labelled). */
export const VOID = 255;

/**
 * How far the void band is followed from an object: void pixels reachable from the object's own
 * pixels in at most this many 4-connected steps through void pixels count as the object's (VOC
 * draws a band about 5 pixels wide).
 */
export const VOID_BAND_STEPS = 6;

/**
 * VOC's palette: label i has colour (r, g, b) where, for bit groups j = 0..7 of i taken three at a
 * time (b0 b1 b2 from the lowest), r gets bit b0 at position 7 - j, g gets b1 and b from b2.
 */
export function vocColour(label: number): [number, number, number] {
  let r = 0,
    g = 0,
    b = 0;
  let c = label;
  for (let j = 0; j < 8; j++) {
    r |= (c & 1) << (7 - j);
    g |= ((c >> 1) & 1) << (7 - j);
    b |= ((c >> 2) & 1) << (7 - j);
    c >>= 3;
  }
  return [r, g, b];
}

let colourToLabel: Map<number, number> | null = null;

/**
 * Label indices from a decoded label image: grey values are the labels themselves; RGB colours
 * are looked up in the VOC palette. Throws naming the first colour that is not in the palette.
 */
export function labelIndices(image: { width: number; height: number; data: Uint8Array; indexed: boolean }): Uint8Array {
  const n = image.width * image.height;
  if (image.indexed) return image.data.slice(0, n);
  if (!colourToLabel) {
    colourToLabel = new Map();
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = vocColour(i);
      colourToLabel.set((r << 16) | (g << 8) | b, i);
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const key = (image.data[3 * i] << 16) | (image.data[3 * i + 1] << 8) | image.data[3 * i + 2];
    const label = colourToLabel.get(key);
    if (label === undefined) {
      const [x, y] = [i % image.width, Math.floor(i / image.width)];
      throw new Error(
        `the colour (${image.data[3 * i]}, ${image.data[3 * i + 1]}, ${image.data[3 * i + 2]}) at (${x}, ${y}) is not in the VOC palette`
      );
    }
    out[i] = label;
  }
  return out;
}

/** Adds to `mask` the void pixels within VOID_BAND_STEPS 4-connected steps of it, through void only. */
export function addVoidBand(
  mask: Uint8Array,
  { data: labels, width, height }: GreyImage,
  steps = VOID_BAND_STEPS
): Uint8Array {
  let frontier: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) frontier.push(i);
  for (let s = 0; s < steps && frontier.length > 0; s++) {
    const next: number[] = [];
    for (const i of frontier) {
      const x = i % width,
        y = (i - x) / width;
      const visit = (j: number): void => {
        if (!mask[j] && labels[j] === VOID) {
          mask[j] = 1;
          next.push(j);
        }
      };
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (y > 0) visit(i - width);
      if (y < height - 1) visit(i + width);
    }
    frontier = next;
  }
  return mask;
}

/**
 * Object k's foreground (k = 1 for the first <object> of the annotation, as VOC numbers them) from
 * a SegmentationObject label image: the pixels labelled k, plus its void band.
 */
export function instanceMask(labels: GreyImage, instance: number): Uint8Array {
  const mask = new Uint8Array(labels.width * labels.height);
  for (let i = 0; i < mask.length; i++) if (labels.data[i] === instance) mask[i] = 1;
  return addVoidBand(mask, labels);
}

/**
 * An object's foreground from a SegmentationClass label image alone: the pixels of its class whose
 * centre lies inside its box, plus their void band. Two objects of one class whose boxes overlap
 * share the pixels in the overlap (class masks cannot tell them apart).
 */
export function classMask(labels: GreyImage, classLabel: number, box: Box): Uint8Array {
  const { width, height } = labels;
  const mask = new Uint8Array(width * height);
  const xa = Math.max(0, Math.ceil(box[0] - 0.5)),
    xb = Math.min(width, Math.ceil(box[2] - 0.5));
  const ya = Math.max(0, Math.ceil(box[1] - 0.5)),
    yb = Math.min(height, Math.ceil(box[3] - 0.5));
  for (let y = ya; y < yb; y++)
    for (let x = xa; x < xb; x++) if (labels.data[y * width + x] === classLabel) mask[y * width + x] = 1;
  return addVoidBand(mask, labels);
}
