/*
 * Class folders: root/<class>/<image>, one sample per image. Masks, when there are any, live in a
 * parallel tree (root of the tree from `ann`, or root/masks beside root/images) as
 * <class>/<image name>.png or <class>/<image stem>.png, any value > 0 being foreground. Reads
 * folder listings only; images are decoded by the pipeline.
 */
import { promises as fs } from 'node:fs';
import { join, extname, basename } from 'node:path';
import type { Skipped } from '../../../common/dataset';
import type { ResolvedImportOptions } from '../options';
import { readMaskGrey, describeDecodeFailure } from '../../io/images';
import { SkipError, idFragment, isImageFile, type SourceImage, type SourceListing } from './types';

async function isDir(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Checks that `path` is an existing folder; the error names it. */
export async function requireFolder(path: string, what: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(path);
  } catch {
    throw new Error(`${what} ${path} does not exist`);
  }
  if (!stat.isDirectory()) throw new Error(`${what} ${path} is not a folder`);
}

/** Names in a folder, hidden ones left out, in a stable order. */
async function entries(dir: string): Promise<{ name: string; dir: boolean }[]> {
  const list = await fs.readdir(dir, { withFileTypes: true });
  return list
    .filter((e) => !e.name.startsWith('.'))
    .map((e) => ({ name: e.name, dir: e.isDirectory() }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function listFolder(opts: ResolvedImportOptions): Promise<SourceListing> {
  await requireFolder(opts.src, 'the source folder');
  let imageRoot = opts.src;
  let maskRoot: string | null = null;
  let prefix = '';
  if (opts.ann) {
    await requireFolder(opts.ann, 'the mask folder');
    maskRoot = opts.ann;
  } else if ((await isDir(join(opts.src, 'images'))) && (await isDir(join(opts.src, 'masks')))) {
    imageRoot = join(opts.src, 'images');
    maskRoot = join(opts.src, 'masks');
    prefix = 'images/';
  }
  const skipped: Skipped[] = [];
  const classes: string[] = [];
  const images: SourceImage[] = [];
  const top = await entries(imageRoot);
  for (const e of top.filter((t) => !t.dir))
    skipped.push({ file: prefix + e.name, reason: 'not inside a class folder — ignored' });
  for (const c of top.filter((t) => t.dir)) {
    const className = c.name;
    const files = await entries(join(imageRoot, className));
    const before = images.length;
    for (const f of files) {
      const rel = `${prefix}${className}/${f.name}`;
      if (f.dir) {
        skipped.push({
          file: rel + '/',
          reason: 'a folder inside a class folder — ignored (expected <class>/<image>)'
        });
        continue;
      }
      if (!isImageFile(f.name)) {
        skipped.push({ file: rel, reason: 'not a JPEG, PNG or WebP file — ignored' });
        continue;
      }
      const image: SourceImage = {
        file: rel,
        path: join(imageRoot, className, f.name),
        annotation: rel,
        split: null,
        idBase: idFragment(`${className}-${basename(f.name, extname(f.name))}`),
        objects: [{ className, box: null, index: null }]
      };
      if (maskRoot) {
        const root = maskRoot;
        const candidates = [`${f.name}.png`, `${basename(f.name, extname(f.name))}.png`];
        let found: string | null = null;
        for (const cand of candidates) if (await isFile(join(root, className, cand))) found = found ?? cand;
        const maskName = opts.ann ? `${opts.ann}/${className}/` : `masks/${className}/`;
        if (!found) {
          skipped.push({
            file: rel,
            reason: `no mask for it (looked for ${maskName}${candidates[1]} and ${maskName}${candidates[0]}) — image skipped`
          });
          continue;
        }
        const maskPath = join(root, className, found);
        const maskRel = maskName + found;
        image.masks = async (width, height) => {
          let grey;
          try {
            grey = await readMaskGrey(maskPath);
          } catch (err) {
            throw new SkipError(maskRel, await describeDecodeFailure(maskPath, err));
          }
          if (grey.width !== width || grey.height !== height)
            throw new SkipError(
              maskRel,
              `the mask is ${grey.width}x${grey.height} but its image is ${width}x${height}`
            );
          const data = new Uint8Array(grey.data.length);
          for (let i = 0; i < data.length; i++) data[i] = grey.data[i] > 0 ? 1 : 0;
          return [{ data, origin: 'folder' }];
        };
      }
      images.push(image);
    }
    if (images.length === before)
      skipped.push({ file: `${prefix}${className}/`, reason: 'no usable images in this class folder' });
    else classes.push(className);
  }
  if (top.filter((t) => t.dir).length === 0)
    throw new Error(`${imageRoot} has no class folders (expected ${imageRoot}/<class>/<image>)`);
  return { classes, images, skipped };
}
