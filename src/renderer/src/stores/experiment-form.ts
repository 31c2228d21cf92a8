/*
 * The run-configuration form of the Experiment view: a draft RunConfig (prefilled from the
 * demo's or a dataset's defaults, or copied from an earlier run), the text typed in each numeric
 * field, the RunConfigSchema messages per field, the suggested name, and the time estimate of the
 * draft (debounced, one call at a time; asked only for a valid draft, stale answers dropped). It launches
 * nothing itself: experiments.launch takes the parsed configuration. Messages are in words naming
 * the field and its range (field-rules.ts); the checks against the dataset (images analysed) use its
 * manifest. The teacher's set-up (source dataset, pretrained folder or none) is switched here.
 * With "your own network (ONNX file)" (onnx-teacher.ts) the launched configuration is the ONNX
 * contract, and the estimate is asked for it (the host times that network's own training steps).
 * A dataset's defaults get 3 seeds once the estimate says 3 fit in 15 minutes (default-seeds.ts),
 * unless the user set the seeds first: the form is shown at once and never waits for it.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { Estimate } from '../../../common/api';
import { RunConfigSchema, type RunConfig } from '../../../common/config';
import { datasetProblems } from '../../../common/config-checks';
import { defaultConfig, demoConfig } from '../../../common/defaults';
import { createDefaultSeeds } from '../experiment/default-seeds';
import {
  createOnnxTeacher,
  onnxRunConfig,
  onnxStartOf,
  takeOnnxChoice,
  type LaunchConfig,
  type OnnxStart
} from '../experiment/onnx-teacher';
import { issueInWords } from '../../../common/field-rules';
import { errorMessage, getApi } from '../api';
import { ALL_FIELDS, type FieldDef } from '../experiment/fields';
import { useDatasetsStore } from './datasets';
import { useExperimentsStore } from './experiments';
import {
  errorsByField,
  getPath,
  parseListText,
  parseNumberText,
  setPath,
  suggestName,
  valueText
} from '../experiment/form-logic';

const TEXT_KINDS = new Set(['int', 'number', 'list']);
const extra = (path: string, label: string): FieldDef => ({ path, label, kind: 'select', help: '' });
/** The fields outside FIELD_GROUPS that messages can belong to (the form shows them on their own). */
export const OTHER_FIELDS = [
  extra('name', 'run name'),
  extra('dataset', 'dataset'),
  extra('teacher.source', 'source dataset'),
  extra('teacher.pretrained', 'pretrained teacher folder')
];
const FORM_FIELDS = [...ALL_FIELDS, ...OTHER_FIELDS];
export const ESTIMATE_DELAY_MS = 500;
export type TeacherMode = 'source' | 'pretrained' | 'onnx' | 'none';

export const useExperimentFormStore = defineStore('experimentForm', () => {
  const draft = ref<RunConfig | null>(null);
  const texts = ref<Record<string, string>>({});
  const nameTouched = ref(false);
  /** Where the draft came from, in words ("the demo", "a copy of run X"). */
  const origin = ref('');
  const loadError = ref<string | null>(null);
  const estimate = ref<Estimate | null>(null);
  const estimateError = ref<string | null>(null);
  const estimating = ref(false);
  let estimateSeq = 0;
  let estimateTimer: ReturnType<typeof setTimeout> | null = null;
  let estimatedKey = '';
  const seeds = createDefaultSeeds();
  const onnx = createOnnxTeacher(draft);

  const datasets = useDatasetsStore();
  const parsed = computed(() => (draft.value ? RunConfigSchema.safeParse(draft.value) : null));
  const words = (
    issue: { code?: string; path: readonly PropertyKey[]; message: string },
    field: { path: string; label: string } | null
  ): string =>
    issueInWords(
      RunConfigSchema,
      issue,
      field?.label ?? issue.path.map(String).join('.'),
      field ? texts.value[field.path] : undefined
    );
  /** The checks against the target dataset, once its manifest is here. */
  const datasetErrors = computed<Record<string, string>>(() => {
    const c = parsed.value?.success ? parsed.value.data : null;
    const m = c ? datasets.manifests[c.dataset] : undefined;
    if (!c || !m) return {};
    const problems = datasetProblems(c, {
      id: m.id,
      trainImages: m.samples.filter((x) => x.split === 'train').length,
      size: m.size
    });
    return errorsByField(problems, FORM_FIELDS);
  });
  const errors = computed<Record<string, string>>(() => ({
    ...onnx.problems.value,
    ...(parsed.value && !parsed.value.success
      ? errorsByField(parsed.value.error.issues, FORM_FIELDS, words)
      : datasetErrors.value)
  }));
  const valid = computed(
    () =>
      parsed.value?.success === true &&
      Object.keys(datasetErrors.value).length === 0 &&
      Object.keys(onnx.problems.value).length === 0
  );
  /** The defaults of the draft's dataset (what each field's help calls its default). */
  const defaults = computed<RunConfig | null>(() => {
    const id = draft.value?.dataset;
    if (!id) return null;
    return id === 'demo' ? demoConfig(false) : defaultConfig(id, datasets.list.find((d) => d.id === id)?.size);
  });
  const teacherMode = computed<TeacherMode>(() =>
    onnx.choice.value
      ? 'onnx'
      : draft.value?.teacher.pretrained != null
        ? 'pretrained'
        : draft.value?.teacher.source != null
          ? 'source'
          : 'none'
  );
  /** How an ONNX teacher starts (file, seed or source), or null without an ONNX architecture. */
  const onnxStart = computed<OnnxStart | null>(() =>
    onnx.choice.value && draft.value ? onnxStartOf(onnx.choice.value, draft.value) : null
  );
  /** The teacher pretrains on a source dataset (built-in or ONNX): the pretrain fields apply. */
  const pretrainsOnSource = computed(() => teacherMode.value === 'source' || onnxStart.value === 'source');
  /** The draft's settings as a RunConfig (an ONNX architecture's placeholders included), or null while invalid. */
  const settings = computed<RunConfig | null>(() => (parsed.value?.success && valid.value ? parsed.value.data : null));
  /** The configuration to launch (the ONNX contract with an ONNX architecture), or null while the draft is invalid. */
  const config = computed<LaunchConfig | null>(() => {
    const c = settings.value;
    return c && onnx.choice.value ? onnxRunConfig(c, onnx.choice.value) : c;
  });
  const experiments = useExperimentsStore();
  /** Names of earlier runs: a suggestion that equals one gets a -2, -3, ... suffix. */
  const takenNames = computed(() => experiments.list.map((e) => e.name));
  const suggestion = computed(() =>
    draft.value ? suggestName(draft.value, takenNames.value, onnx.choice.value?.path ? onnx.choice.value : null) : ''
  );

  function adopt(source: RunConfig, from: string): void {
    const copy = JSON.parse(JSON.stringify(source)) as RunConfig;
    // A run on an ONNX architecture comes back as the choice, the draft with the built-in placeholders.
    const choice = takeOnnxChoice(
      copy,
      defaultConfig(copy.dataset, datasets.list.find((d) => d.id === copy.dataset)?.size)
    );
    const t: Record<string, string> = {};
    for (const f of ALL_FIELDS) if (TEXT_KINDS.has(f.kind)) t[f.path] = valueText(getPath(copy, f.path));
    texts.value = t;
    nameTouched.value = false;
    copy.name = suggestName(copy, takenNames.value, choice);
    draft.value = copy;
    origin.value = from;
    loadError.value = null;
    seeds.reset(false);
    onnx.set(false);
    onnx.choice.value = choice;
    void datasets.manifest(copy.dataset);
  }

  /** The teacher's set-up: pretrained on a source dataset, loaded from a pretrained folder, or none. */
  function setTeacherMode(mode: TeacherMode): void {
    const t = draft.value?.teacher;
    if (!t || mode === teacherMode.value) return;
    onnx.set(mode === 'onnx');
    t.pretrained = mode === 'pretrained' ? '' : null;
    t.source = mode === 'source' ? (datasets.list.find((d) => d.id !== draft.value?.dataset)?.id ?? '') : null;
    sourceEpochs(mode === 'source');
  }

  /** Pretrain epochs when a source is chosen: the draft's, else the demo's. */
  function sourceEpochs(on: boolean): void {
    const t = draft.value!.teacher;
    const epochs = on ? t.pretrain.epochs || demoConfig(false).teacher.pretrain.epochs : 0;
    t.pretrain.epochs = epochs;
    texts.value['teacher.pretrain.epochs'] = String(epochs);
  }

  /** How an ONNX teacher starts: the file's weights, the seed, or the seed pretrained on a source dataset. */
  function setOnnxStart(start: OnnxStart): void {
    const t = draft.value?.teacher;
    if (!t || !onnx.choice.value || start === onnxStart.value) return;
    onnx.update({ fromFile: start === 'file' });
    t.source = start === 'source' ? (datasets.list.find((d) => d.id !== draft.value?.dataset)?.id ?? '') : null;
    sourceEpochs(start === 'source');
  }

  function setTeacherSource(id: string): void {
    if (draft.value) draft.value.teacher.source = id;
  }

  function setPretrained(path: string): void {
    if (draft.value) draft.value.teacher.pretrained = path;
  }

  async function loadDefaults(kind: 'demo' | 'demo-quick' | 'dataset', datasetId?: string): Promise<void> {
    try {
      const c = await getApi().defaultConfig(kind === 'dataset' ? { kind, datasetId } : { kind });
      adopt(
        c,
        kind === 'dataset' ? `the defaults for dataset ${datasetId}` : kind === 'demo' ? 'the demo' : 'the quick demo'
      );
      seeds.reset(kind === 'dataset');
    } catch (err) {
      loadError.value = errorMessage(err);
    }
  }

  /** The dataset picker: the demo's own settings for 'demo', else the defaults for that dataset. */
  async function chooseDataset(datasetId: string): Promise<void> {
    await (datasetId === 'demo' ? loadDefaults('demo') : loadDefaults('dataset', datasetId));
  }

  /** Loads an earlier run's configuration to change one setting and launch again. */
  function duplicate(source: RunConfig, runName: string): void {
    adopt(source, `a copy of run ${runName}`);
  }

  function setText(path: string, text: string): void {
    if (!draft.value) return;
    if (path === 'seeds') seeds.touch();
    texts.value[path] = text;
    const field = ALL_FIELDS.find((f) => f.path === path);
    const t = text.trim();
    // A rate field takes "auto" (a range test picks it); an empty nullable field means off (null).
    const special = field?.auto && t === 'auto' ? 'auto' : field?.nullable && t === '' ? null : undefined;
    setPath(
      draft.value,
      path,
      special !== undefined ? special : field?.kind === 'list' ? parseListText(text) : parseNumberText(text)
    );
  }

  /** Selects and checkboxes; '' from a select means null. */
  function setValue(path: string, value: string | boolean): void {
    if (!draft.value) return;
    setPath(draft.value, path, value === '' ? null : value);
  }

  function setName(name: string): void {
    if (!draft.value) return;
    nameTouched.value = true;
    draft.value.name = name;
  }

  function useSuggestedName(): void {
    if (!draft.value) return;
    nameTouched.value = false;
    draft.value.name = suggestion.value;
  }

  watch(suggestion, (s) => {
    if (draft.value && !nameTouched.value) draft.value.name = s;
  });

  let inFlight = false;
  let again = false;

  /** Asks for the draft's estimate; one call at a time (each may start a calibration), the latest draft last. */
  async function refreshEstimate(): Promise<void> {
    if (inFlight) {
      again = true;
      return;
    }
    const c = parsed.value?.success ? parsed.value.data : null;
    if (!c || !valid.value) return;
    if (datasets.loaded && !datasets.list.some((d) => d.id === c.dataset)) {
      // Not asked (it would only fail): asked again when the dataset appears (datasets-changed).
      estimateError.value = `dataset '${c.dataset}' is not in the workspace yet${c.dataset === 'demo' ? ' (the demo data is generated on first launch; see the jobs panel)' : ''}`;
      estimate.value = null;
      return;
    }
    // With an ONNX network the launched configuration (the contract) is estimated: its own steps are timed.
    const choice = onnx.choice.value;
    const asked: LaunchConfig = choice ? onnxRunConfig(c, choice) : c;
    const { name: _name, ...rest } = asked;
    const key = JSON.stringify(rest);
    if (key === estimatedKey && estimate.value) return;
    const seq = ++estimateSeq;
    estimating.value = true;
    inFlight = true;
    try {
      const e = await getApi().estimate({ config: asked });
      if (seq !== estimateSeq) return;
      estimate.value = e;
      estimatedKey = key;
      estimateError.value = null;
      if (choice) return;
      const chosen = await seeds.consider(
        c,
        (more) => getApi().estimate({ config: more }),
        () => seq === estimateSeq
      );
      if (chosen && draft.value) {
        // The answer for the switched draft is already here: kept, so the draft's change asks nothing.
        const { name: _n, ...next } = chosen.config;
        estimate.value = chosen.estimate;
        estimatedKey = JSON.stringify(next);
        draft.value.seeds = chosen.config.seeds;
        texts.value.seeds = String(chosen.config.seeds);
      }
    } catch (err) {
      if (seq === estimateSeq) estimateError.value = errorMessage(err);
    } finally {
      inFlight = false;
      if (seq === estimateSeq) estimating.value = false;
      if (again) {
        again = false;
        void refreshEstimate();
      }
    }
  }

  /** Drops a pending estimate request (nothing in flight is interrupted). */
  function cancelEstimate(): void {
    if (estimateTimer) clearTimeout(estimateTimer);
    estimateTimer = null;
    again = false;
  }

  // A dataset that appears (the demo data finished, an import) makes a failed estimate worth asking again.
  watch(
    () => datasets.list.map((d) => d.id).join(','),
    () => {
      if (valid.value && (estimateError.value || !estimate.value)) void refreshEstimate();
    }
  );

  // The draft, and with an ONNX network its choice and the host's verdict on it (valid once described).
  watch(
    [draft, onnx.choice, valid],
    () => {
      if (estimateTimer) clearTimeout(estimateTimer);
      if (!valid.value) {
        estimateSeq++;
        estimating.value = false;
        return;
      }
      estimateTimer = setTimeout(() => void refreshEstimate(), ESTIMATE_DELAY_MS);
    },
    { deep: true }
  );

  return {
    seedsNote: seeds.note,
    draft,
    texts,
    nameTouched,
    origin,
    loadError,
    estimate,
    estimateError,
    estimating,
    errors,
    valid,
    config,
    settings,
    suggestion,
    defaults,
    teacherMode,
    setTeacherMode,
    /** The ONNX architecture's choice, what the host found in the file, and how to change the choice. */
    onnxChoice: onnx.choice,
    onnxInfo: onnx.info,
    chooseOnnxModel: onnx.choose,
    updateOnnx: onnx.update,
    setTeacherSource,
    onnxStart,
    setOnnxStart,
    pretrainsOnSource,
    setPretrained,
    adopt,
    loadDefaults,
    chooseDataset,
    duplicate,
    setText,
    setValue,
    setName,
    useSuggestedName,
    refreshEstimate,
    cancelEstimate
  };
});
