/*
 * `kd-lens import`: a folder, Pascal VOC, CUB-200-2011 or COCO dataset into the workspace. The
 * --json output ({dataset, samples, classes, skipped}) is a contract scripts rely on. Exits
 * non-zero only when nothing could be imported.
 */
import type { Command } from '../command';
import { UsageError, type FlagSpec } from '../args';
import {
  detectFolderFormat,
  importDataset,
  ImportError,
  IMPORT_FORMATS,
  IMPORT_DEFAULTS,
  type ImportFormat,
  type ImportOptions,
  type ImportSummary
} from '../../engine/data';
import { resolveImportOptions } from '../../engine/data/options';
import { resolveWorkspace } from '../../engine/store/workspace';
import { progressBar } from '../progress';

const flags: Record<string, FlagSpec> = {
  format: {
    type: 'string',
    value: IMPORT_FORMATS.join('|'),
    help: 'the layout of the source (default: detected: VOC has Annotations/ + JPEGImages/, CUB images.txt + classes.txt, COCO an instances_*.json, else folder)'
  },
  src: { type: 'string', value: 'DIR', help: 'the folder to import (COCO: the images folder)' },
  ann: {
    type: 'string',
    value: 'FILE',
    help: 'COCO: the instances JSON; folder: the root of the mask tree (default DIR/masks beside DIR/images)'
  },
  name: {
    type: 'string',
    value: 'NAME',
    help: 'dataset name (its id is the name in lower case, e.g. "My Birds" -> my-birds)'
  },
  size: {
    type: 'integer',
    value: 'PX',
    default: IMPORT_DEFAULTS.size,
    help: 'working size: crops and masks are stored PX x PX'
  },
  'crop-scale': {
    type: 'number',
    value: 'S',
    default: IMPORT_DEFAULTS.cropScale,
    help: 'enlarge each box by S about its centre before cropping'
  },
  classes: { type: 'string', value: 'a,b', help: 'import only these classes' },
  'max-per-class': { type: 'integer', value: 'N', help: 'at most N samples per class (a seeded choice)' },
  'min-size': {
    type: 'number',
    value: 'PX',
    default: IMPORT_DEFAULTS.minSize,
    help: 'skip objects narrower or shorter than PX source pixels'
  },
  'centre-region': {
    type: 'boolean',
    help: "folder format without masks: the central 2/3 of each image is foreground (the paper's ILSVRC rule)"
  },
  'mask-threshold': {
    type: 'number',
    value: 'T',
    default: IMPORT_DEFAULTS.maskThreshold,
    help: 'CUB soft masks: foreground where value > T'
  },
  'val-fraction': {
    type: 'number',
    value: 'F',
    default: IMPORT_DEFAULTS.valFraction,
    help: 'share of each class put in val when the source has no split'
  },
  seed: { type: 'integer', default: IMPORT_DEFAULTS.seed, help: 'seed of the split and of --max-per-class' },
  workspace: {
    type: 'string',
    value: 'DIR',
    help: 'the workspace folder (default: per-user folder; env KD_LENS_WORKSPACE)'
  },
  json: { type: 'boolean', help: 'print one JSON object: {"dataset", "samples", "classes", "skipped"}' }
};

function printSkipped(skipped: ImportSummary['skipped'], out: NodeJS.WriteStream, limit = 20): void {
  if (skipped.length === 0) return;
  out.write(`skipped ${skipped.length}:\n`);
  for (const s of skipped.slice(0, limit)) out.write(`  ${s.file}: ${s.reason}\n`);
  if (skipped.length > limit)
    out.write(
      `  ... and ${skipped.length - limit} more (all of them are in the dataset's dataset.json, or use --json)\n`
    );
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import a dataset (class folders, Pascal VOC, CUB-200-2011, COCO) with foreground masks',
  usage:
    'kd-lens import [--format folder|voc|cub|coco] --src DIR [--ann FILE] --name NAME [--size 64] [--crop-scale 1.2] [--classes a,b] [--max-per-class N] [--min-size PX] [--workspace DIR] [--json]',
  flags,
  async run({ flags: f, positionals }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    let format = f.format as string | undefined;
    if (format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format: expected ${IMPORT_FORMATS.join(', ')}, got '${format}'`);
    if (!f.src) throw new UsageError('--src DIR is required');
    if (!f.name) throw new UsageError('--name NAME is required');
    const workspace = resolveWorkspace(f.workspace as string | undefined);
    let src = f.src as string;
    let ann = f.ann as string | undefined;
    if (format === undefined) {
      const guess = await detectFolderFormat(src);
      format = guess.format;
      src = guess.srcPath;
      if (guess.format === 'coco' && !ann) ann = guess.annPath;
      if (!f.json) process.stderr.write(`format: ${guess.format} (${guess.reason}; --format to choose another)\n`);
    } else {
      // --format given: the detection's folder when it finds the same format (a VOC root below VOCdevkit/, COCO's images).
      const guess = await detectFolderFormat(src).catch(() => null);
      if (guess?.format === format) {
        src = guess.srcPath;
        if (format === 'coco' && !ann) ann = guess.annPath;
      }
    }
    const options: ImportOptions = {
      workspace,
      format: format as ImportFormat,
      src,
      ann,
      name: f.name as string,
      size: f.size as number,
      cropScale: f['crop-scale'] as number,
      classes: f.classes ? (f.classes as string).split(',') : undefined,
      maxPerClass: f['max-per-class'] as number | undefined,
      minSize: f['min-size'] as number,
      centreRegion: Boolean(f['centre-region']),
      maskThreshold: f['mask-threshold'] as number,
      valFraction: f['val-fraction'] as number,
      seed: f.seed as number
    };
    try {
      resolveImportOptions(options);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const json = Boolean(f.json);
    const bar = progressBar('import', { quiet: json });
    let summary: ImportSummary;
    try {
      summary = await importDataset(options, (done, total, text) => bar.update(total > 0 ? done / total : 0, text));
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      if (json) process.stdout.write(JSON.stringify(err.summary) + '\n');
      else printSkipped(err.summary.skipped, process.stderr);
      process.stderr.write(`kd-lens import: error: ${err.message}\n`);
      return 1;
    }
    bar.done(`${summary.samples} samples`);
    if (json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
      return 0;
    }
    const out = process.stdout;
    out.write(`imported ${summary.samples} samples into dataset '${summary.dataset}' (${workspace})\n`);
    const width = Math.max(...Object.keys(summary.classes).map((c) => c.length));
    for (const [c, n] of Object.entries(summary.classes)) out.write(`  ${c.padEnd(width)}  ${n}\n`);
    printSkipped(summary.skipped, out);
    return 0;
  }
};
