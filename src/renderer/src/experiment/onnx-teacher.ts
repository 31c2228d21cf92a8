/*
 * The Experiment form's "your own network (ONNX file)" (issue 17 section 3): a model of the
 * workspace's models/ folder becomes the architecture that teacher, student and baseline share. The
 * user picks the file, its tap (from the nodes the host found between input and classifier),
 * optionally the classifier, and whether the teacher starts from the file's weights, from the seed,
 * or from the seed pretrained on a source dataset of the workspace (the draft's teacher.source and
 * pretrain epochs, checked as for a built-in run). The form then launches exactly the
 * run-configuration contract: architecture { onnx, classifier? }, tap, teacher.pretrained = the same
 * models/ path or null, teacher.source = the source or null. Source and file weights do not combine:
 * the configuration's checks refuse both (config-checks.ts), and prepareOnnxRun pretrains on a source
 * only when no teacher file is given.
 * The host checks every choice as `kd-lens run` would (describeOnnxModel) and its refusal is shown
 * before launch; the settings the ONNX path refuses today are marked here with a short reason.
 */
import { computed, ref, watch, type Ref } from 'vue';
import type { OnnxModelInfo } from '../../../common/api';
import { isOnnxArchitecture, type AnyRunConfig, type OnnxRunConfig, type RunConfig } from '../../../common/config';
import { errorMessage, getApi } from '../api';
import { ALL_FIELDS } from './fields';

export interface OnnxChoice {
  /** models/NAME.onnx ('' until chosen). */
  path: string;
  /** A Gemm/MatMul node to replace ('' : the last one). */
  classifier: string;
  tap: string;
  /** The teacher starts from the file's weights (teacher.pretrained = path); false: from the seed (then pretrained on the draft's teacher.source when set). */
  fromFile: boolean;
}

/** How an ONNX teacher starts: the file's weights, the seed, or the seed pretrained on a source dataset. */
export type OnnxStart = 'file' | 'seed' | 'source';

/** The start of a choice with the draft's source. */
export const onnxStartOf = (o: OnnxChoice, c: RunConfig): OnnxStart =>
  o.fromFile ? 'file' : c.teacher.source !== null ? 'source' : 'seed';

/** The configuration launched: the ONNX form (the contract, src/common/config.ts) or a RunConfig. */
export type LaunchConfig = AnyRunConfig;

export const DESCRIBE_DELAY_MS = 300;
const SET_BY_FILE = 'set by the ONNX file';
/** Why a field does not apply with an ONNX architecture: its value comes from the file. */
const FROM_FILE: Record<string, string> = Object.fromEntries(
  ALL_FIELDS.filter((f) => f.path.startsWith('architecture.') || f.path === 'tap').map((f) => [
    f.path,
    f.path === 'tap' ? 'chosen among the ONNX file’s nodes above' : SET_BY_FILE
  ])
);

/** A field's note with an ONNX architecture: disabled (its value is the file's); null otherwise. */
export function onnxFieldNote(path: string): { disabled: boolean; text: string } | null {
  if (FROM_FILE[path]) return { disabled: true, text: FROM_FILE[path] };
  return null;
}

/** The launched configuration: the draft's settings with the ONNX architecture, tap and teacher start. */
export function onnxRunConfig(c: RunConfig, o: OnnxChoice): OnnxRunConfig {
  const classifier = o.classifier.trim();
  return {
    ...c,
    architecture: { onnx: o.path, ...(classifier ? { classifier } : {}) },
    tap: o.tap,
    teacher: { ...c.teacher, source: o.fromFile ? null : c.teacher.source, pretrained: o.fromFile ? o.path : null }
  };
}

/**
 * An earlier run's configuration on an ONNX architecture (a copy to change and launch again): its
 * choice, with the draft's architecture and tap set back to `placeholders` (the form checks the draft
 * as a RunConfig) and no pretrained path (its source, if any, stays the draft's: the teacher then
 * pretrains on it again); null, and the copy untouched, for a built-in architecture.
 * A path stored elsewhere than models/ keeps its text (the host then refuses it by name).
 */
export function takeOnnxChoice(copy: RunConfig, placeholders: RunConfig): OnnxChoice | null {
  const arch: unknown = copy.architecture;
  if (!isOnnxArchitecture(arch) || typeof arch.onnx !== 'string') return null;
  const inModels = (p: string): string => p.match(/(?:^|[\\/])(models\/[^\\/]+\.onnx)$/i)?.[1] ?? p;
  const path = inModels(arch.onnx);
  const classifier = (arch as { classifier?: unknown }).classifier;
  const choice: OnnxChoice = {
    path,
    classifier: typeof classifier === 'string' ? classifier : '',
    tap: String(copy.tap),
    fromFile: typeof copy.teacher.pretrained === 'string' && inModels(copy.teacher.pretrained) === path
  };
  copy.architecture = placeholders.architecture;
  copy.tap = placeholders.tap;
  copy.teacher = { ...copy.teacher, source: choice.fromFile ? null : copy.teacher.source, pretrained: null };
  return choice;
}

/** What stops an ONNX draft from launching, by field (the file, classifier and tap choices). */
export function onnxProblems(_c: RunConfig, o: OnnxChoice, info: OnnxModelInfo | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!o.path) out['onnx.model'] = 'choose or upload an .onnx file';
  else if (info?.path === o.path) {
    if (info.classifierError) out['onnx.classifier'] = info.classifierError;
    if (!o.tap) out['onnx.tap'] = 'choose the tap: the layer L that is distilled and explained';
    else if (info.problem) out['onnx.problem'] = info.problem;
  } else out['onnx.model'] = 'reading the file…';
  return out;
}

/** The ONNX part of the form store: the choice, what the host says of it (asked again when it changes), its problems. */
export function createOnnxTeacher(draft: Ref<RunConfig | null>) {
  const choice = ref<OnnxChoice | null>(null);
  const info = ref<OnnxModelInfo | null>(null);
  const describeError = ref<string | null>(null);
  const checking = ref(false);
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const problems = computed<Record<string, string>>(() => {
    if (!choice.value || !draft.value) return {};
    const p = onnxProblems(draft.value, choice.value, info.value);
    if (describeError.value) p['onnx.model'] = describeError.value;
    else if (checking.value && !p['onnx.model']) p['onnx.problem'] = 'checking…';
    return p;
  });

  async function describe(): Promise<void> {
    const o = choice.value;
    const s = ++seq;
    if (!o?.path) {
      info.value = null;
      checking.value = false;
      return;
    }
    checking.value = true;
    try {
      const answer = await getApi().describeOnnxModel({
        path: o.path,
        classifier: o.classifier.trim() || null,
        tap: o.tap || null,
        datasetId: draft.value?.dataset ?? null,
        pretrained: o.fromFile
      });
      if (s !== seq) return;
      info.value = answer;
      describeError.value = null;
      // A newly chosen file gets the host's suggested tap (the last ReLU before the classifier).
      if (!o.tap && answer.suggestedTap) o.tap = answer.suggestedTap;
      else checking.value = false;
    } catch (err) {
      if (s !== seq) return;
      info.value = null;
      describeError.value = errorMessage(err);
      checking.value = false;
    }
  }

  watch(
    () => (choice.value ? JSON.stringify([choice.value, draft.value?.dataset]) : null),
    (key) => {
      if (timer) clearTimeout(timer);
      if (key === null) {
        seq++;
        info.value = null;
        describeError.value = null;
        checking.value = false;
        return;
      }
      checking.value = true;
      timer = setTimeout(() => void describe(), DESCRIBE_DELAY_MS);
    }
  );

  return {
    choice,
    info,
    checking,
    problems,
    /** Switches the ONNX architecture on (an empty choice) or off. */
    set(on: boolean): void {
      choice.value = on ? { path: '', classifier: '', tap: '', fromFile: true } : null;
    },
    /** Another file: its own classifier and tap are found again. */
    choose(path: string): void {
      if (choice.value) choice.value = { ...choice.value, path, classifier: '', tap: '' };
    },
    update(part: Partial<OnnxChoice>): void {
      if (choice.value) choice.value = { ...choice.value, ...part };
    }
  };
}
