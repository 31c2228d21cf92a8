/*
 * Pure helpers of the configuration form: reading and writing a RunConfig by dotted path, turning
 * typed text into numbers (text that is not a number stays NaN so that RunConfigSchema rejects it
 * with its own message), zod issues to one message per form field, and the suggested run name
 * carrying the key settings. No Vue, no API.
 */
import type { RunConfig } from '../../../common/config';
import type { FieldDef } from './field-def';
import { runDifferences } from '../../../common/run-differences';

type Tree = Record<string, unknown> | unknown[];

export function getPath(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Sets a value in place; intermediate objects must exist. */
export function setPath(root: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: unknown = root;
  for (const key of keys.slice(0, -1)) node = (node as Record<string, unknown>)[key];
  (node as Record<string, unknown>)[keys[keys.length - 1]] = value;
}

/** A number from typed text; NaN when empty or not a number. */
export function parseNumberText(text: string): number {
  const t = text.trim();
  return t === '' ? NaN : Number(t);
}

/**
 * The value a field's typed text stands for: "auto" in a rate field that takes it (a range test
 * picks the rate), null for an empty nullable field (off), else the list or number it reads as.
 */
export function textValue(field: FieldDef | undefined, text: string): number | number[] | 'auto' | null {
  const t = text.trim();
  if (field?.auto && t === 'auto') return 'auto';
  if (field?.nullable && t === '') return null;
  return field?.kind === 'list' ? parseListText(text) : parseNumberText(text);
}

/** Numbers from "16, 32 64"; an element that is not a number stays NaN. */
export function parseListText(text: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter((t) => t !== '')
    .map((t) => Number(t));
}

/** How a value reads in its field. */
export function valueText(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return value === null || value === undefined ? '' : String(value);
}

export interface Issue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
}

/**
 * The first message per form field: an issue belongs to the field whose path is the issue's path
 * or a prefix of it (`architecture.channels.1` belongs to `architecture.channels`). Issues that
 * belong to no field come back under their own dotted path.
 */
export function errorsByField(
  issues: readonly Issue[],
  fields: readonly FieldDef[],
  words?: (issue: Issue, field: FieldDef | null) => string
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const dotted = issue.path.map(String).join('.') || '(configuration)';
    const field = fields.find((f) => dotted === f.path || dotted.startsWith(`${f.path}.`));
    const key = field ? field.path : dotted;
    if (!(key in out)) out[key] = words ? words(issue, field ?? null) : issue.message;
  }
  return out;
}

/**
 * A name carrying the key settings, e.g. `demo-vgg32-fc1-e30-g8-n24` (dataset, family and input
 * size, tap, baseline epochs, grid, images analysed, and `-x3` for three seeds), then what differs
 * from the defaults (`-seed3-s1lr0.01`), and `-2`, `-3`, ... when the name is taken; at most 100
 * characters.
 */
export function suggestName(
  config: RunConfig,
  taken: readonly string[] = [],
  onnx: { path: string; tap: string } | null = null
): string {
  const c = config;
  const num = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '?');
  // An ONNX architecture (onnx-teacher.ts) is named by its file's stem and its tap node.
  const word = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const parts = [
    onnx
      ? word(onnx.path.replace(/^models\//, '').replace(/\.onnx$/i, ''))
      : `${c.architecture.family}${num(c.architecture.inputSize)}`,
    onnx ? word(onnx.tap) || 'tap' : c.tap,
    `e${num(c.baseline.epochs)}`,
    `g${num(c.quantification.grid)}`,
    `n${num(c.quantification.images)}`
  ];
  if (typeof c.seeds === 'number' && c.seeds > 1) parts.push(`x${c.seeds}`);
  for (const d of runDifferences(c)) parts.push(`${d.token}${d.value}`);
  const name = (suffix: string): string => {
    const tail = `-${parts.join('-')}${suffix}`.slice(0, 99);
    return `${(c.dataset || 'dataset').slice(0, Math.max(1, 100 - tail.length))}${tail}`;
  };
  const used = new Set(taken);
  let k = 1;
  while (used.has(name(k === 1 ? '' : `-${k}`)) && k < 1000) k++;
  return name(k === 1 ? '' : `-${k}`);
}
