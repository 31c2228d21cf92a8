/*
 * What every importer produces: a listing of source images, each with its objects (class, box,
 * index in the file) and, where the format has them, a way to build each object's full-resolution
 * mask once the image's size is known. Importers read annotations only; decoding, cropping,
 * resizing and writing happen once, in the shared pipeline (build.ts).
 */
import type { MaskOrigin, Skipped, Split } from '../../../common/dataset';
import type { Box } from '../geometry';

export interface SourceObject {
  className: string;
  /** Box in pixel-edge coordinates of the image as displayed (x1, y1 exclusive); null = the whole image. */
  box: Box | null;
  /** The box as written in the annotation, and the names of its fields, for messages. */
  rawBox?: Box;
  boxNames?: string[];
  /** The file to blame for a bad box, when not the image's annotation (CUB: bounding_boxes.txt). */
  boxFile?: string;
  /** The object's index in its source file (VOC: 0-based order of <object>), or null when the file is the object. */
  index: number | null;
}

/** An object's own foreground at the source image's full resolution (0/1, width x height). */
export interface ObjectMask {
  data: Uint8Array;
  origin: MaskOrigin;
}

export interface SourceImage {
  /** The image, relative to the imported folder (provenance) and absolute. */
  file: string;
  path: string;
  /** The file that annotations problems are reported against (e.g. 'Annotations/x.xml'). */
  annotation: string;
  /** The source's own split, or null when it has none (a seeded split is drawn). */
  split: Split | null;
  /** Base of the sample ids of this image's objects ('2008_000123' gives '2008_000123-0', ...). */
  idBase: string;
  objects: SourceObject[];
  /**
   * The objects' full-resolution masks, in the order given: a mask; null when the object has no
   * mask of its own (its box or the whole image stands in); or a string saying why this object
   * must be skipped. Throws SkipError when the image's masks are unusable altogether.
   */
  masks?: (width: number, height: number, objects: SourceObject[]) => Promise<(ObjectMask | null | string)[]>;
}

export interface SourceListing {
  /** Every class of the source, in the source's order. */
  classes: string[];
  images: SourceImage[];
  /** Problems found while reading the annotations. */
  skipped: Skipped[];
}

/** A problem that skips every object of one image; `file` is the file to blame. */
export class SkipError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string
  ) {
    super(`${file}: ${reason}`);
    this.name = 'SkipError';
  }
}

/** Turns any text into a SafeId fragment: characters other than [A-Za-z0-9._-] become '_'. */
export function idFragment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return s.length > 0 ? s.slice(0, 120) : 'x';
}

/** Image extensions the importers pick up (JPEG, PNG, WebP). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}
