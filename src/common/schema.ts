/*
 * Turning untrusted values (files, IPC, HTTP bodies) into typed values: a zod schema plus an origin
 * (a file name, an API method) gives either the value or an error that names the origin, the field
 * and the problem. Runtime-neutral.
 */
import type { ZodType } from 'zod';

export class SchemaError extends Error {
  constructor(
    message: string,
    readonly origin: string,
    readonly problems: { path: string; message: string }[]
  ) {
    super(message);
    this.name = 'SchemaError';
  }
}

/** 'a.b[2].c' from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** Parses `value` with `schema`; throws a SchemaError naming `origin`, each field and its problem. */
export function parseWith<T>(schema: ZodType<T>, value: unknown, origin: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const shown = problems.slice(0, 5).map((p) => `field ${p.path}: ${p.message}`);
  if (problems.length > 5) shown.push(`and ${problems.length - 5} more`);
  throw new SchemaError(`${origin}: ${shown.join('; ')}`, origin, problems);
}
