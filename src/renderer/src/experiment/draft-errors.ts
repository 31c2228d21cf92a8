/*
 * The Experiment form's messages per field: RunConfigSchema's issues in words naming the field and
 * its range (field-rules.ts), else the checks against the target dataset's manifest (images
 * analysed, image size), plus the ONNX teacher's problems; and whether the draft may launch.
 * Computed from the draft's parse; nothing here changes the draft or asks the host.
 */
import { computed, type ComputedRef, type Ref } from 'vue';
import type { DatasetManifest } from '../../../common/dataset';
import { RunConfigSchema } from '../../../common/config';
import { datasetProblems } from '../../../common/config-checks';
import { issueInWords } from '../../../common/field-rules';
import { ALL_FIELDS } from './fields';
import type { FieldDef } from './field-def';
import { errorsByField } from './form-logic';

const extra = (path: string, label: string): FieldDef => ({ path, label, kind: 'select', help: '' });
/** The fields outside FIELD_GROUPS that messages can belong to (the form shows them on their own). */
export const OTHER_FIELDS = [
  extra('name', 'run name'),
  extra('dataset', 'dataset'),
  extra('teacher.source', 'source dataset'),
  extra('teacher.pretrained', 'pretrained teacher folder')
];
const FORM_FIELDS = [...ALL_FIELDS, ...OTHER_FIELDS];

export type DraftParse = ReturnType<typeof RunConfigSchema.safeParse>;

export interface DraftErrorsOptions {
  parsed: ComputedRef<DraftParse | null>;
  /** The text typed in each numeric field (quoted in a message about it). */
  texts: Ref<Record<string, string>>;
  /** The ONNX teacher's problems by field (onnx-teacher.ts). */
  onnxProblems: ComputedRef<Record<string, string>>;
  /** The manifest of a dataset once loaded (the datasets store). */
  manifest: (id: string) => DatasetManifest | undefined;
}

export function createDraftErrors(o: DraftErrorsOptions): {
  errors: ComputedRef<Record<string, string>>;
  valid: ComputedRef<boolean>;
} {
  const words = (
    issue: { code?: string; path: readonly PropertyKey[]; message: string },
    field: { path: string; label: string } | null
  ): string =>
    issueInWords(
      RunConfigSchema,
      issue,
      field?.label ?? issue.path.map(String).join('.'),
      field ? o.texts.value[field.path] : undefined
    );
  /** The checks against the target dataset, once its manifest is here. */
  const datasetErrors = computed<Record<string, string>>(() => {
    const c = o.parsed.value?.success ? o.parsed.value.data : null;
    const m = c ? o.manifest(c.dataset) : undefined;
    if (!c || !m) return {};
    const problems = datasetProblems(c, {
      id: m.id,
      trainImages: m.samples.filter((x) => x.split === 'train').length,
      size: m.size
    });
    return errorsByField(problems, FORM_FIELDS);
  });
  const errors = computed<Record<string, string>>(() => ({
    ...o.onnxProblems.value,
    ...(o.parsed.value && !o.parsed.value.success
      ? errorsByField(o.parsed.value.error.issues, FORM_FIELDS, words)
      : datasetErrors.value)
  }));
  const valid = computed(
    () =>
      o.parsed.value?.success === true &&
      Object.keys(datasetErrors.value).length === 0 &&
      Object.keys(o.onnxProblems.value).length === 0
  );
  return { errors, valid };
}
