/*
 * Schema messages in words. Zod's own texts ("Invalid input: expected number, received NaN") say
 * nothing about the field or what it accepts; here the rule of a field is read from the schema
 * itself (whole number or not, lower and upper bound, choices), so that a message can name the
 * field and the allowed range without a second copy of the rules. Runtime-neutral.
 */
import type { ZodType } from 'zod';

export interface FieldRule {
  kind: 'number' | 'choice' | 'list' | 'other';
  int: boolean;
  /** Lower and upper bounds with whether they are allowed themselves. */
  min: { value: number; inclusive: boolean } | null;
  max: { value: number; inclusive: boolean } | null;
  choices: string[];
  /** A list: its least number of elements, and the rule of each element. */
  minItems: number | null;
  element: FieldRule | null;
}

interface Def {
  type: string;
  innerType?: ZodType;
  shape?: Record<string, ZodType>;
  items?: ZodType[];
  element?: ZodType;
  entries?: Record<string, string>;
  checks?: {
    _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string; minimum?: number } };
  }[];
}

const defOf = (s: ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(s: ZodType): ZodType {
  let d = defOf(s);
  while ((d.type === 'nullable' || d.type === 'optional' || d.type === 'default') && d.innerType) {
    s = d.innerType;
    d = defOf(s);
  }
  return s;
}

/** The schema at a dotted path ('architecture.fcUnits.0'), or null. */
export function schemaAt(root: ZodType, path: readonly (string | number)[]): ZodType | null {
  let s: ZodType = unwrap(root);
  for (const key of path) {
    const d = defOf(s);
    let next: ZodType | undefined;
    if (d.type === 'object' && d.shape) next = d.shape[String(key)];
    else if (d.type === 'tuple' && d.items) next = d.items[Number(key)];
    else if (d.type === 'array' && d.element) next = d.element;
    if (!next) return null;
    s = unwrap(next);
  }
  return s;
}

export function ruleOf(schema: ZodType): FieldRule {
  const d = defOf(unwrap(schema));
  const rule: FieldRule = {
    kind: 'other',
    int: false,
    min: null,
    max: null,
    choices: [],
    minItems: null,
    element: null
  };
  if (d.type === 'number') {
    rule.kind = 'number';
    for (const c of d.checks ?? []) {
      const k = c._zod.def;
      if (k.check === 'number_format' && k.format?.includes('int')) rule.int = true;
      if (k.check === 'greater_than' && k.value !== undefined)
        rule.min = { value: k.value, inclusive: k.inclusive ?? true };
      if (k.check === 'less_than' && k.value !== undefined)
        rule.max = { value: k.value, inclusive: k.inclusive ?? true };
    }
  } else if (d.type === 'enum' && d.entries) {
    rule.kind = 'choice';
    rule.choices = Object.values(d.entries);
  } else if (d.type === 'array' && d.element) {
    rule.kind = 'list';
    rule.element = ruleOf(d.element);
    for (const c of d.checks ?? []) if (c._zod.def.check === 'min_length') rule.minItems = c._zod.def.minimum ?? null;
  }
  return rule;
}

/** "a whole number from 1 to 64", "a number above 0", "one of top-left, majority, any". */
export function allowedText(rule: FieldRule): string {
  if (rule.kind === 'choice') return `one of ${rule.choices.join(', ')}`;
  if (rule.kind === 'list')
    return `a list of ${rule.element ? allowedText(rule.element).replace(/^an? /, '') + 's' : 'values'}, separated by commas`;
  if (rule.kind !== 'number') return 'a valid value';
  const what = rule.int ? 'a whole number' : 'a number';
  const { min, max } = rule;
  const finiteMax = max && Number.isFinite(max.value) ? max : null;
  const finiteMin = min && Number.isFinite(min.value) ? min : null;
  if (finiteMin && finiteMax && finiteMin.inclusive && finiteMax.inclusive)
    return `${what} from ${finiteMin.value} to ${finiteMax.value}`;
  const parts: string[] = [];
  if (finiteMin) parts.push(finiteMin.inclusive ? `at least ${finiteMin.value}` : `above ${finiteMin.value}`);
  if (finiteMax) parts.push(finiteMax.inclusive ? `at most ${finiteMax.value}` : `below ${finiteMax.value}`);
  return parts.length ? `${what}, ${parts.join(' and ')}` : what;
}

export interface IssueLike {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
}

/**
 * One issue in words naming the field: "fc1 units must be a whole number of at least 1 (got
 * nothing)". Custom issues (the cross-field checks) already speak in words and are kept.
 */
export function issueInWords(root: ZodType, issue: IssueLike, label: string, given?: string): string {
  if (issue.code === 'custom') return issue.message;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const s = schemaAt(root, path);
  if (!s) return `${label}: ${issue.message}`;
  const rule = ruleOf(s);
  if (rule.kind === 'list' && issue.code === 'too_small')
    return `${label} needs at least ${rule.minItems ?? 1} value${rule.minItems === 1 ? '' : 's'}`;
  const shown = given === undefined ? '' : given.trim() === '' ? ' (it is empty)' : ` (got “${given.trim()}”)`;
  const parent = path.length > 1 ? schemaAt(root, path.slice(0, -1)) : null;
  const item = parent && defOf(parent).type === 'array' ? ` (item ${Number(path[path.length - 1]) + 1})` : '';
  return `${label}${item} must be ${allowedText(rule)}${shown}`;
}
