/*
 * What a field of the run-configuration form is (path in RunConfig, label, kind, a one-line help in the
 * paper's terms, the unit) and how groups of them are shown, with the test ids the form gives a field and
 * its error. The fields themselves are listed in fields.ts (training) and quantify-fields.ts.
 */

export type FieldKind = 'int' | 'number' | 'list' | 'select' | 'check';

export interface FieldDef {
  path: string;
  label: string;
  kind: FieldKind;
  hint?: string;
  /** One line in the paper's terms: what the setting does. */
  help: string;
  /** The unit shown after the default ('epochs', 'px', 'nats'); none for plain counts. */
  unit?: string;
  /** A number field that also takes the word "auto" (learning rates: a range test picks them). */
  auto?: boolean;
  /** A number field whose empty text means null (off). */
  nullable?: boolean;
  /** select: the choices (value '' stands for null). */
  options?: readonly { value: string; label: string }[];
}

export interface FieldGroup {
  title: string;
  fields: FieldDef[];
  /** Shown folded under "Advanced" (the method's finer settings, the authors' values by default). */
  advanced?: boolean;
}

/** Select options whose labels are their values. */
export const choices = (values: readonly string[]): { value: string; label: string }[] =>
  values.map((v) => ({ value: v, label: v }));

/** `config-baseline-epochs` for `baseline.epochs`. */
export const fieldTestId = (path: string): string => `config-${path.replace(/\./g, '-')}`;
export const errorTestId = (path: string): string => `error-${path.replace(/\./g, '-')}`;
