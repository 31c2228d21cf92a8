/*
 * The workspace's own networks for the Experiment form's "your own network (ONNX file)" (issue 17
 * section 3): .onnx files kept in <workspace>/models/, which a run configuration names as
 * "models/NAME.onnx" (architecture.onnx, teacher.pretrained). A file arrives by the upload machinery
 * (uploads.ts: one file, not unpacked), is checked (size, extension, a model our reader accepts:
 * the refusal names the file) and moved in under a free name. describeOnnxModel says what a file
 * is (input, the classifier found, the candidate taps) and, given a tap and a dataset, runs the
 * whole check that `kd-lens run` runs before training (planOnnxArchitecture), so the form shows the
 * refusal before launch. Paths come only as models/NAME.onnx and must stay inside models/ once
 * links are resolved. Caller mistakes are 4xx.
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type { OnnxModelEntry, OnnxModelInfo } from '../common/api';
import { CallerError, DamagedFileError, notFound, refused } from '../common/errors';
import { loadDataset } from '../engine/data/store';
import { dependsOnInput, findClassifier, planOnnxArchitecture, upstream } from '../engine/onnx/onnx-arch';
import { readOnnxModel } from '../engine/onnx/onnx-file';
import type { ModelIr } from '../engine/onnx/ir';
import { CompileError } from '../engine/onnx/rules/rule';
import { isInside } from '../engine/store/workspace';

export const MODELS_DIR = 'models';
/** The largest model taken (a VGG-16 export is about 530 MB); the whole file is read into memory. */
export const MODEL_LIMIT_BYTES = 600 * 1024 ** 2;

const mib = (n: number): string => `${Math.round(n / 1024 ** 2)} MiB`;

export interface OnnxModelsOptions {
  workspace: string;
  /** The upload machinery's takeFile (uploads.ts). */
  takeFile: <T>(uploadId: string, use: (file: { name: string; path: string }) => Promise<T>) => Promise<T>;
}

export interface DescribeRequest {
  path: string;
  classifier?: string | null;
  tap?: string | null;
  datasetId?: string | null;
  pretrained?: boolean;
}

/** The stem of a user's file name made safe for models/ ("My net (v2).onnx" -> "My-net-v2-"). */
function safeStem(name: string): string {
  const stem = name.replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const trimmed = stem.replace(/^[^A-Za-z0-9]+/, '').slice(0, 80);
  return trimmed || 'model';
}

/** Reads a model, turning the reader's refusal into `fail` (400 for an upload, 422 for a workspace file). */
function readModel(bytes: Uint8Array, label: string, fail: (message: string) => CallerError): ModelIr {
  try {
    return readOnnxModel(bytes, label);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw fail(message.startsWith(label) ? message : `${label}: not a readable ONNX model (${message})`);
  }
}

/** The candidate taps: nodes computing the classifier's input from the image, in graph order. */
function tapsOf(ir: ModelIr, classifierValue: string | null): OnnxModelInfo['taps'] {
  const data = dependsOnInput(ir);
  const nodes = classifierValue === null ? ir.nodes : upstream(ir, classifierValue);
  return nodes
    .filter((n) => n.outputs.some((o) => data.has(o)))
    .map((n) => ({ name: n.name || n.outputs[0], op: n.op, output: n.outputs[0] }));
}

export function createOnnxModels(o: OnnxModelsOptions) {
  const dir = join(o.workspace, MODELS_DIR);
  /** Moves into models/ one at a time, so two uploads of the same name get two names. */
  let moving: Promise<unknown> = Promise.resolve();

  /** The real path of a models/NAME.onnx the caller named: existing, a file, inside models/ once links are resolved. */
  async function modelFile(path: string): Promise<{ full: string; bytes: number }> {
    const full = await fs.realpath(join(o.workspace, path)).catch(() => null);
    if (!full) throw notFound(`${path}: no such model in the workspace (upload it first)`);
    const realDir = await fs.realpath(dir).catch(() => dir);
    if (!isInside(realDir, full)) throw refused(`${path}: leads outside the workspace's ${MODELS_DIR}/ folder`);
    const st = await fs.stat(full);
    if (!st.isFile()) throw new CallerError(400, `${path}: not a file`);
    if (st.size > MODEL_LIMIT_BYTES)
      throw new CallerError(
        413,
        `${path}: ${mib(st.size)} is more than the ${mib(MODEL_LIMIT_BYTES)} a model may have`
      );
    return { full, bytes: st.size };
  }

  async function freeName(stem: string): Promise<string> {
    for (let k = 1; ; k++) {
      const name = `${stem}${k === 1 ? '' : `-${k}`}.onnx`;
      if (!(await fs.lstat(join(dir, name)).catch(() => null))) return name;
    }
  }

  return {
    async listOnnxModels(): Promise<OnnxModelEntry[]> {
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      const out: OnnxModelEntry[] = [];
      for (const name of names.sort()) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.onnx$/.test(name)) continue;
        const st = await fs.lstat(join(dir, name)).catch(() => null);
        if (st?.isFile()) out.push({ path: `${MODELS_DIR}/${name}`, bytes: st.size });
      }
      return out;
    },

    async uploadOnnxModel({ uploadId }: { uploadId: string }): Promise<OnnxModelEntry> {
      return o.takeFile(uploadId, async ({ name, path }) => {
        const label = basename(name);
        if (!/\.onnx$/i.test(label))
          throw new CallerError(400, `${label}: not an .onnx file (export the network with torch.onnx.export)`);
        const { size } = await fs.stat(path);
        if (size > MODEL_LIMIT_BYTES)
          throw new CallerError(
            413,
            `${label}: ${mib(size)} is more than the ${mib(MODEL_LIMIT_BYTES)} a model may have`
          );
        readModel(await fs.readFile(path), label, (m) => new CallerError(400, m));
        const move = moving.then(async () => {
          await fs.mkdir(dir, { recursive: true });
          const target = await freeName(safeStem(label));
          // A rename within the workspace: the model appears whole or not at all.
          await fs.rename(path, join(dir, target));
          return { path: `${MODELS_DIR}/${target}`, bytes: size };
        });
        moving = move.catch(() => undefined);
        return move;
      });
    },

    async describeOnnxModel(req: DescribeRequest): Promise<OnnxModelInfo> {
      const { full, bytes } = await modelFile(req.path);
      const data = await fs.readFile(full);
      const ir = readModel(data, req.path, (m) => new DamagedFileError(m));
      const [channels, height, width] = ir.input.shape;
      const reading = dependsOnInput(ir);
      const classifiers = ir.nodes
        .filter((n) => (n.op === 'Gemm' || n.op === 'MatMul') && reading.has(n.outputs[0]))
        .map((n) => n.name || n.outputs[0]);
      let classifier: OnnxModelInfo['classifier'] = null;
      let classifierError: string | null = null;
      let value: string | null = null;
      try {
        const c = findClassifier(ir, req.classifier ?? null, req.path);
        classifier = { node: c.node, op: c.op, features: c.features, outputs: c.outputs };
        value = c.output; // taps lie at or before the classifier
        if (c.op === 'Conv' && !classifiers.includes(c.node)) classifiers.push(c.node);
      } catch (err) {
        if (!(err instanceof CompileError)) throw err;
        classifierError = err.message;
      }
      const taps = tapsOf(ir, value);
      const before = taps.filter((t) => t.name !== classifier?.node);
      const suggestedTap = [...before].reverse().find((t) => t.op === 'Relu')?.name ?? before.at(-1)?.name ?? null;
      const info: OnnxModelInfo = {
        path: req.path,
        bytes,
        input: { name: ir.input.name, channels, height, width },
        classifier,
        classifierError,
        classifiers,
        taps,
        suggestedTap
      };
      if (!req.tap || !req.datasetId) return info;
      const m = await loadDataset(o.workspace, req.datasetId);
      try {
        planOnnxArchitecture({
          bytes: data,
          file: req.path,
          classifier: req.classifier ?? null,
          tap: req.tap,
          imageSize: m.size,
          classes: m.classes.length,
          dataset: req.datasetId,
          pretrained: req.pretrained === true
        });
        return { ...info, problem: null };
      } catch (err) {
        // The file is the caller's: whatever stops the check is its refusal (a 200 with the problem), named.
        const message = err instanceof Error ? err.message : String(err);
        const problem = err instanceof CompileError ? message : `${req.path}: could not be checked (${message})`;
        return { ...info, problem };
      }
    }
  };
}
