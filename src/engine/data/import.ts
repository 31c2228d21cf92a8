/*
 * importDataset: one call from options to a finished dataset in the workspace. Chooses the
 * importer, runs the shared pipeline into a temporary folder and renames it into place; when
 * nothing could be imported it writes nothing and throws an ImportError that carries every reason.
 */
import { resolve } from 'node:path';
import type { DatasetManifest, ImportSummary } from '../../common/dataset';
import { datasetIdFromName, resolveImportOptions, type ImportOptions, type ResolvedImportOptions } from './options';
import { buildSamples } from './build';
import { DatasetWriter } from './store';
import { listFolder } from './importers/folder';
import { listVoc } from './importers/voc';
import { listCub } from './importers/cub';
import { listCoco } from './importers/coco';
import type { SourceListing } from './importers/types';

/** Thrown when not one sample could be imported; `summary` lists every skipped file and why. */
export class ImportError extends Error {
  constructor(
    message: string,
    readonly summary: ImportSummary
  ) {
    super(message);
    this.name = 'ImportError';
  }
}

function listSource(opts: ResolvedImportOptions): Promise<SourceListing> {
  switch (opts.format) {
    case 'folder':
      return listFolder(opts);
    case 'voc':
      return listVoc(opts);
    case 'cub':
      return listCub(opts);
    case 'coco':
      return listCoco(opts);
  }
}

/**
 * Imports a dataset in one of the supported formats into `<workspace>/datasets/<id>/`, id being the
 * slug of the name. Re-importing the same source under the same name gives the same dataset (and
 * keeps hand-edited masks of unchanged samples). Throws Error for a bad request or unreadable
 * source, ImportError when every object was skipped.
 */
export async function importDataset(
  opts: ImportOptions,
  onProgress?: (done: number, total: number, text: string) => void
): Promise<ImportSummary> {
  const resolved = resolveImportOptions(opts);
  const o: ResolvedImportOptions = {
    ...resolved,
    src: resolve(resolved.src),
    ann: resolved.ann ? resolve(resolved.ann) : null
  };
  const id = datasetIdFromName(o.name);
  try {
    return await importInto(o, { workspace: opts.workspace, id }, onProgress);
  } catch (err) {
    // An upload's folder is a server-internal path: the message names the user's own file instead.
    if (opts.sourceLabel && err instanceof Error) err.message = err.message.split(o.src).join(opts.sourceLabel);
    throw err;
  }
}

async function importInto(
  o: ResolvedImportOptions,
  target: { workspace: string; id: string },
  onProgress?: (done: number, total: number, text: string) => void
): Promise<ImportSummary> {
  const { id } = target;
  const listing = await listSource(o);
  const writer = await DatasetWriter.open(resolve(target.workspace), id);
  try {
    const result = await buildSamples(listing, o, writer, onProgress);
    const classCounts: Record<string, number> = {};
    for (const c of result.classes) classCounts[c] = 0;
    for (const s of result.samples) classCounts[result.classes[s.label]]++;
    const summary: ImportSummary = {
      dataset: id,
      samples: result.samples.length,
      classes: classCounts,
      skipped: result.skipped
    };
    if (result.samples.length === 0) {
      const first = result.skipped[0];
      const why = first
        ? `; ${result.skipped.length} problem${result.skipped.length === 1 ? '' : 's'}, the first: ${first.file}: ${first.reason}`
        : listing.images.length === 0
          ? '; it has no images'
          : '; no object matched the options';
      throw new ImportError(`nothing could be imported from ${o.src}${why}`, summary);
    }
    const manifest: DatasetManifest = {
      version: 1,
      id,
      name: o.name,
      format: o.format,
      sourcePath: o.src,
      createdAt: new Date().toISOString(),
      size: o.size,
      classes: result.classes,
      samples: result.samples,
      options: { ...o },
      skipped: result.skipped
    };
    await writer.commit(manifest);
    return summary;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
