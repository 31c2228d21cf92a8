/*
 * What the host does with an ONNX-form run configuration before any job (issue 17): its .onnx paths
 * read against the workspace and confined to it (403 outside, 404 missing), the checks of
 * `kd-lens run` (prepareOnnxRun: the file, classifier, tap, datasets and input size; a refusal is the
 * caller's mistake, 400 naming the file, field or node), and the time estimate of such a run (its
 * own steps timed by a calibration job, onnx-arch-estimate.ts). Shared by startExperiment,
 * probeSource and estimate, so each refuses the same mistakes the same way.
 */
import { promises as fs } from 'node:fs';
import { cpus as cpuList } from 'node:os';
import { basename, isAbsolute, resolve } from 'node:path';
import type { Estimate } from '../common/api';
import type { OnnxRunConfig } from '../common/config';
import { CallerError, RequestError } from '../common/errors';
import { prepareOnnxConfig, type PreparedOnnxRun } from '../engine/onnx/onnx-arch-run';
import { estimateOnnxRun, onnxBasisNote, onnxCalibrationKey } from '../engine/onnx/onnx-arch-estimate';
import { estimateBasis, type Calibration } from '../engine/estimate';

export interface OnnxRunChecksOptions {
  workspace: string;
  /** The service's confinement of a path the caller names (absolute, existing, inside; else 4xx naming `what`). */
  allowedPath: (path: string, what: string) => Promise<string>;
  /** Runs an ONNX calibration in a job process (absent: the estimate says it is not available here). */
  calibrate?: (config: OnnxRunConfig) => Promise<Calibration>;
  /** The service's calibration queue: one per key, shared by callers, one at a time. */
  shared: (key: string, calibrate: () => Promise<Calibration>) => Promise<Calibration>;
}

export function createOnnxRunChecks(o: OnnxRunChecksOptions) {
  const ws = o.workspace;
  /**
   * An ONNX-form configuration's .onnx files: a relative path is read against the workspace (uploads
   * live in <workspace>/models/), and every path must lie inside the workspace or a picked folder.
   */
  const onnxPaths = async (c: OnnxRunConfig): Promise<OnnxRunConfig> => {
    const at = (p: string): string => (isAbsolute(p) ? p : resolve(ws, p));
    const onnx = await o.allowedPath(at(c.architecture.onnx), 'architecture.onnx');
    const pretrained = c.teacher.pretrained
      ? await o.allowedPath(at(c.teacher.pretrained), 'teacher.pretrained')
      : null;
    return { ...c, architecture: { ...c.architecture, onnx }, teacher: { ...c.teacher, pretrained } };
  };

  /** A configuration checked as `kd-lens run` checks it: its paths (onnxPaths), then prepareOnnxRun's checks as 400. */
  const checkedOnnx = async (config: OnnxRunConfig): Promise<{ config: OnnxRunConfig; prepared: PreparedOnnxRun }> => {
    const c = await onnxPaths(config);
    const prepared = await prepareOnnxConfig(ws, c).catch((err: unknown) => {
      throw err instanceof CallerError || !(err instanceof Error) ? err : new RequestError(err.message);
    });
    return { config: c, prepared };
  };

  /** The estimate: the network's own steps timed in a job (cached per network), counted as estimateRun counts. */
  const onnxEstimate = async (config: OnnxRunConfig): Promise<Estimate> => {
    const { config: c, prepared } = await checkedOnnx(config);
    const calibrate = o.calibrate;
    if (!calibrate) throw new Error('the time estimate of an ONNX architecture is not available in this host');
    const file = await fs.stat(c.architecture.onnx);
    const cal = await o.shared(onnxCalibrationKey(c, { size: file.size, mtimeMs: file.mtimeMs }), () => calibrate(c));
    const trainOf = (m: { samples: { split: string }[] } | null): number =>
      m ? m.samples.filter((x) => x.split === 'train').length : 0;
    const counts = { targetTrain: trainOf(prepared.manifest), sourceTrain: trainOf(prepared.source) };
    const e = estimateOnnxRun(c, { counts, cal, cpus: cpuList().length });
    const note = onnxBasisNote(cal, { file: basename(c.architecture.onnx), inputSize: prepared.plan.inputSize });
    return { seconds: e.seconds, stages: e.stages, basis: estimateBasis(cal, note), refined: false, probe: e.probe };
  };

  return { onnxPaths, checkedOnnx, onnxEstimate };
}
