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
 * The messages come from draft-errors.ts, the estimate from draft-estimate.ts; this store holds the
 * draft and its changes.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { RunConfigSchema, type RunConfig } from '../../../common/config';
import { defaultConfig, demoConfig } from '../../../common/defaults';
import { createDefaultSeeds } from '../experiment/default-seeds';
import { createDraftErrors } from '../experiment/draft-errors';
import { createDraftEstimate } from '../experiment/draft-estimate';
import {
  createOnnxTeacher,
  onnxRunConfig,
  onnxStartOf,
  takeOnnxChoice,
  type LaunchConfig,
  type OnnxStart
} from '../experiment/onnx-teacher';
import { errorMessage, getApi } from '../api';
import { ALL_FIELDS } from '../experiment/fields';
import { useDatasetsStore } from './datasets';
import { useExperimentsStore } from './experiments';
import { getPath, setPath, suggestName, textValue, valueText } from '../experiment/form-logic';

export { OTHER_FIELDS } from '../experiment/draft-errors';
export { ESTIMATE_DELAY_MS } from '../experiment/draft-estimate';

const TEXT_KINDS = new Set(['int', 'number', 'list']);
export type TeacherMode = 'source' | 'pretrained' | 'onnx' | 'none';

export const useExperimentFormStore = defineStore('experimentForm', () => {
  const draft = ref<RunConfig | null>(null);
  const texts = ref<Record<string, string>>({});
  const nameTouched = ref(false);
  /** Where the draft came from, in words ("the demo", "a copy of run X"). */
  const origin = ref('');
  const loadError = ref<string | null>(null);
  const seeds = createDefaultSeeds();
  const onnx = createOnnxTeacher(draft);

  const datasets = useDatasetsStore();
  const parsed = computed(() => (draft.value ? RunConfigSchema.safeParse(draft.value) : null));
  const { errors, valid } = createDraftErrors({
    parsed,
    texts,
    onnxProblems: onnx.problems,
    manifest: (id) => datasets.manifests[id]
  });
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
    setPath(
      draft.value,
      path,
      textValue(
        ALL_FIELDS.find((f) => f.path === path),
        text
      )
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

  const { estimate, estimateError, estimating, refreshEstimate, cancelEstimate } = createDraftEstimate({
    draft,
    texts,
    parsed,
    valid,
    onnxChoice: onnx.choice,
    seeds,
    datasets
  });

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
