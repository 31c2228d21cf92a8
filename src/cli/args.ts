/*
 * A small command-line parser: typed flags, lists that take every following non-flag word
 * (`--images a.png b.png`), `--no-x` booleans, and errors that name the flag and the problem.
 */

export type FlagType = 'string' | 'number' | 'integer' | 'boolean' | 'list';

export interface FlagSpec {
  type: FlagType;
  help: string;
  /** Placeholder shown in help, e.g. 'DIR'. */
  value?: string;
  default?: string | number | boolean | string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export class UsageError extends Error {}

export interface Parsed {
  flags: FlagValues;
  positionals: string[];
}

/** Parses argv against a flag spec. `--help` is always accepted and sets flags.help. */
export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): Parsed {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (const [name, s] of Object.entries(spec)) if (s.default !== undefined) flags[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('--') || token === '--') {
      if (token !== '--') {
        positionals.push(token);
        continue;
      }
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name = token.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (name === 'help' || name === 'h') {
      flags.help = true;
      continue;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    if (s.type === 'list') {
      const values: string[] = inline !== undefined ? [inline] : [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) values.push(argv[++i]);
      if (values.length === 0) throw new UsageError(`--${name} needs at least one value`);
      flags[name] = values;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--')))
      throw new UsageError(`--${name} needs a value${s.value ? ` (${s.value})` : ''}`);
    if (s.type === 'number' || s.type === 'integer') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name}: expected a number, got '${raw}'`);
      if (s.type === 'integer' && !Number.isInteger(v))
        throw new UsageError(`--${name}: expected a whole number, got '${raw}'`);
      flags[name] = v;
    } else {
      flags[name] = raw;
    }
  }
  return { flags, positionals };
}

/** Parses 'a,b,c' into exactly n numbers. */
export function parseTriple(value: string, flag: string, n = 3): number[] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== n || parts.some((p) => !Number.isFinite(p)))
    throw new UsageError(`--${flag}: expected ${n} comma-separated numbers, got '${value}'`);
  return parts;
}

/** Help text for a command's flags. */
export function formatFlags(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `  --${name}${s.type === 'boolean' ? '' : ` ${s.value ?? s.type.toUpperCase()}${s.type === 'list' ? ' ...' : ''}`}`;
    const def =
      s.default !== undefined && s.type !== 'boolean'
        ? ` (default ${Array.isArray(s.default) ? s.default.join(',') : s.default})`
        : '';
    return [left, s.help + def];
  });
  const width = Math.min(36, Math.max(...rows.map((r) => r[0].length)) + 2);
  return rows.map(([l, r]) => (l.length >= width ? `${l}\n${' '.repeat(width)}${r}` : l.padEnd(width) + r)).join('\n');
}
