/*
 * Which import format a source is, from the names of its files alone: the one rule behind the CLI
 * (`kd-lens import` without --format), the server ("Use this folder") and the browser (a picked
 * folder or zip, read before it is uploaded). Pascal VOC has Annotations/ and JPEGImages/, CUB
 * images.txt and classes.txt, COCO an instances_*.json; anything else is the folder format (one
 * subfolder per class). A wrong guess is what imported a VOC zip as classes "JPEGImages",
 * "SegmentationClass" and "SegmentationObject", so the wizard shows the reason and warns when the
 * chosen format disagrees.
 */
import type { ImportRequest } from './api';

export type ImportFormatName = ImportRequest['format'];

export interface FormatGuess {
  format: ImportFormatName;
  /** Why, in words: "found VOC2012/Annotations/ and VOC2012/JPEGImages/". */
  reason: string;
  /** The folder to import, relative to the scanned one ('' = itself; COCO: the images folder). */
  src: string;
  /** COCO: the instances JSON, relative to the scanned folder ('/'-separated). */
  ann?: string;
}

/** A detection on the server: the guess with its folders as absolute paths (COCO: the JSON too). */
export interface DetectedFormat extends FormatGuess {
  srcPath: string;
  annPath?: string;
}

export const FORMAT_LABELS: Record<ImportFormatName, string> = {
  folder: 'folder (one subfolder per class)',
  voc: 'Pascal VOC',
  cub: 'CUB-200-2011',
  coco: 'COCO'
};

/** How deep a scan looks below the chosen folder (a zip's top/VOCdevkit/VOC2012/Annotations/x.xml is 5). */
export const DETECT_DEPTH = 5;

const IMAGE = /\.(jpe?g|png|webp)$/i;
const IGNORED = (part: string): boolean => part.startsWith('.') || part === '__MACOSX';

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

const under = (root: string, name: string): string => (root ? `${root}/${name}` : name);

/**
 * The format of a folder given the relative paths of (some of) its files, '/'-separated. Only
 * presence matters, so a caller may list a few files per folder. The shallowest match wins; VOC
 * before CUB before COCO when two are at the same depth.
 */
export function detectFormat(paths: readonly string[]): FormatGuess {
  const files = paths
    .map((p) => p.replace(/\\/g, '/').replace(/^\.?\//, ''))
    .filter((p) => p && !p.split('/').some(IGNORED));
  const dirs = new Set<string>();
  for (const f of files) for (let d = parentOf(f); d; d = parentOf(d)) dirs.add(d);
  const hasFileIn = (dir: string, test: (name: string) => boolean): boolean =>
    files.some((f) => parentOf(f) === dir && test(f.slice(dir ? dir.length + 1 : 0)));
  const roots = ['', ...[...dirs].sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))];

  for (const root of roots) {
    const ann = under(root, 'Annotations');
    const jpeg = under(root, 'JPEGImages');
    if (dirs.has(ann) && dirs.has(jpeg) && hasFileIn(ann, (n) => n.toLowerCase().endsWith('.xml')))
      return { format: 'voc', reason: `found ${ann}/ (XML) and ${jpeg}/`, src: root };
    const has = (n: string): boolean => files.includes(under(root, n));
    if (has('images.txt') && has('classes.txt'))
      return {
        format: 'cub',
        reason: `found ${under(root, 'images.txt')} and ${under(root, 'classes.txt')}`,
        src: root
      };
    const instances = (f: string): boolean => /(^|\/)instances_[^/]*\.json$/i.test(f);
    // The JSON in the folder itself, else one level down (COCO's annotations/).
    const found =
      files.find((f) => parentOf(f) === root && instances(f)) ??
      files.find((f) => parentOf(parentOf(f)) === root && parentOf(f) !== root && instances(f));
    if (found) return { format: 'coco', reason: `found ${found}`, src: cocoImages(found, root, files), ann: found };
  }
  // Class folders at the top, or in images/ beside masks/ (the folder format's DIR/images + DIR/masks).
  const inside = dirs.has('images') && ![...dirs].some((d) => !d.includes('/') && hasFileIn(d, (n) => IMAGE.test(n)));
  const base = inside ? 'images/' : '';
  const classDirs = [...dirs]
    .filter((d) => d.startsWith(base) && !d.slice(base.length).includes('/') && hasFileIn(d, (n) => IMAGE.test(n)))
    .map((d) => d.slice(base.length))
    .sort();
  return {
    format: 'folder',
    reason:
      classDirs.length > 0
        ? `no VOC, CUB or COCO files; ${classDirs.length} subfolder${classDirs.length === 1 ? '' : 's'}${inside ? ' of images/' : ''} with images (${classDirs.slice(0, 3).join(', ')}${classDirs.length > 3 ? ', …' : ''}) taken as classes`
        : 'no VOC, CUB or COCO files found',
    src: ''
  };
}

/** COCO's images beside the annotations: val2017/ for instances_val2017.json, else images/, else the root. */
function cocoImages(json: string, root: string, files: readonly string[]): string {
  const split = /instances_([^/]*)\.json$/i.exec(json)?.[1] ?? '';
  const hasImages = (dir: string): boolean => files.some((f) => parentOf(f) === dir && IMAGE.test(f));
  for (const candidate of [under(root, split), under(root, 'images'), under(root, `images/${split}`)])
    if (split && hasImages(candidate)) return candidate;
  if (hasImages(under(root, 'images'))) return under(root, 'images');
  return root;
}
