/* The store as a (shared) folder: objects are files written atomically (temp file + rename). */
import { promises as fs } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../../engine/store/atomic';
import { checkKey, type ArtifactStore } from './store';

export class FolderStore implements ArtifactStore {
  readonly root: string;
  readonly description: string;
  constructor(root: string) {
    if (!root) throw new Error('--store: give a folder');
    this.root = resolve(root);
    this.description = `folder ${this.root}`;
  }

  private path(key: string): string {
    const p = resolve(this.root, checkKey(key));
    if (!p.startsWith(this.root + sep)) throw new Error(`store key '${key}' leaves the store's folder`);
    return p;
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(this.path(key), data);
    } catch (err) {
      throw new Error(`the store (${this.description}) refused to write ${key}: ${(err as Error).message}`);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await fs.readFile(this.path(key)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw new Error(`the store (${this.description}) cannot read ${key}: ${(err as Error).message}`);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.path(key))).isFile();
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temp files of writes in progress
        if (e.isDirectory()) await walk(join(dir, e.name), `${rel}/${e.name}`);
        else if (e.isFile()) out.push(`${rel}/${e.name}`);
      }
    };
    await walk(this.path(prefix), checkKey(prefix));
    return out.sort();
  }
}
