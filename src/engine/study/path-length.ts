/*
 * A study network's path length (method.md section 3) at its analysed checkpoints: read from the
 * training's own log (CSV `epoch,path_length` or JSON, cumulative and already divided by
 * ||W_0||_F), or else approximated from the checkpoints' tap-layer weights as the sum of
 * ||W_e - W_e'||_F over consecutive checkpoints divided by ||W_0||_F (CHECKPOINT_PATH_LENGTH_NOTE
 * says what that costs).
 */
import { promises as fs } from 'node:fs';
import { frobenius } from '../training/path-length';

/** Epoch -> cumulative normalised path length, parsed from a CSV or JSON log. Throws naming the file and line. */
export async function readPathLengthLog(file: string): Promise<Map<number, number>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read the path-length log (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const rows: [number, number, string][] = [];
  if (file.toLowerCase().endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
    }
    const list = Array.isArray(raw) ? raw : null;
    if (list) {
      list.forEach((r: unknown, i) => {
        const o = (r ?? {}) as Record<string, unknown>;
        rows.push([Number(o.epoch), Number(o.path_length ?? o.pathLength), `entry ${i}`]);
      });
    } else if (raw && typeof raw === 'object') {
      for (const [k, v] of Object.entries(raw)) rows.push([Number(k), Number(v), `key '${k}'`]);
    } else throw new Error(`${file}: expected a list of {epoch, path_length} or an object epoch -> path length`);
  } else {
    const lines = text.split(/\r?\n/).map((l) => l.trim());
    lines.forEach((line, i) => {
      if (!line || (i === 0 && /[a-z]/i.test(line))) return; // blank, or the header
      const cells = line.split(',');
      if (cells.length !== 2) throw new Error(`${file}: line ${i + 1}: expected 'epoch,path_length', got '${line}'`);
      rows.push([Number(cells[0]), Number(cells[1]), `line ${i + 1}`]);
    });
  }
  const out = new Map<number, number>();
  for (const [epoch, value, where] of rows) {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new Error(`${file}: ${where}: the epoch must be a whole number >= 0`);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${file}: ${where}: the path length must be a finite number >= 0`);
    if (out.has(epoch)) throw new Error(`${file}: ${where}: epoch ${epoch} appears twice`);
    out.set(epoch, value);
  }
  if (out.size === 0) throw new Error(`${file}: the path-length log has no rows`);
  return out;
}

/** The log's values at `epochs`; every analysed epoch must be in the log, and the path must not shrink. */
export function pathLengthsAt(log: Map<number, number>, epochs: readonly number[], file: string): number[] {
  const missing = epochs.filter((e) => !log.has(e));
  if (missing.length)
    throw new Error(
      `${file}: the path-length log has no row for checkpoint epoch${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (its epochs: ${[...log.keys()].sort((a, b) => a - b).join(', ')})`
    );
  const values = epochs.map((e) => log.get(e)!);
  for (let i = 1; i < values.length; i++)
    if (values[i] < values[i - 1])
      throw new Error(
        `${file}: the path length falls from ${values[i - 1]} at epoch ${epochs[i - 1]} to ${values[i]} at epoch ${epochs[i]}; it must be cumulative`
      );
  return values;
}

/** Per-checkpoint approximation: cumulative sum of ||W_e - W_e'||_F over consecutive checkpoints, / ||W_0||_F. */
export function pathLengthFromWeights(weights: readonly Float32Array[], source: string): number[] {
  const w0 = frobenius(weights[0]);
  if (!(w0 > 0))
    throw new Error(`${source}: the tap weights of the first checkpoint are all zero; the path length is undefined`);
  const out = [0];
  let total = 0;
  for (let i = 1; i < weights.length; i++) {
    const a = weights[i - 1],
      b = weights[i];
    let s = 0;
    for (let j = 0; j < a.length; j++) s += (b[j] - a[j]) ** 2;
    total += Math.sqrt(s);
    out.push(total / w0);
  }
  return out;
}
