/*
 * The time a study's quantification will take on this machine, said before it starts: one sigma
 * step and one task set-up timed on a real checkpoint of the study (the first student's last), on
 * the engine the study will use, times the maps and tasks the study asks for (as estimate.ts does
 * for a trained run).
 */
import type { RunConfig } from '../../common/config';
import { expectedSigmaSteps, quantThreads, timeSigmaStep } from '../estimate';
import { timeMedian } from '../bench-cases';
import { Rng } from '../util/random';
import { selectEngine, selectForTfjs, type EngineChoice } from '../onnx/select';
import { loadLayersModelFromDir } from '../store/model-files';
import { readOnnxModel } from '../onnx/onnx-file';
import { foldConstants } from '../onnx/fold';
import { loadOrt } from '../onnx/runtime';
import { isOnnxPath } from './checkpoint';
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface StudyEstimate {
  seconds: number;
  maps: number;
  tasks: number;
  basis: string;
}

export async function estimateStudy(config: RunConfig): Promise<StudyEstimate> {
  const study = config.study!;
  const q = config.quantification;
  const px = config.architecture.inputSize;
  const images = Math.min(q.images, q.batch);
  const dims = { height: px, width: px, channels: 3, grid: q.grid, samples: q.samples, relu: q.relu };
  const request = { engine: config.engine, device: config.device, threads: quantThreads(config.workers) };
  const path = study.networks.find((n) => n.role === 'student')!.checkpoints.at(-1)!.path;
  const open = async (): Promise<{ choice: EngineChoice; dispose: () => void }> => {
    if (isOnnxPath(path)) {
      const rt = await loadOrt();
      if ('error' in rt) throw new Error(rt.error);
      const ir = await foldConstants(readOnnxModel(new Uint8Array(await fs.readFile(path)), path), rt.ort);
      return {
        choice: await selectEngine(request, { ir: () => ir, tfModel: null, tap: study.tap, dims }),
        dispose() {}
      };
    }
    const model = await loadLayersModelFromDir(path);
    return {
      choice: await selectForTfjs(request, model, { source: path, tap: study.tap, dims }),
      dispose: () => model.dispose()
    };
  };
  const inputs = new Rng(2).fillNormal(new Float32Array(images * px * px * 3));
  let last: { choice: EngineChoice; dispose: () => void } | null = null;
  const setupMs = await timeMedian(
    async () => {
      last?.dispose();
      last = await open();
      const stepper = await last.choice.engine.open(dims);
      await stepper.features(inputs, images);
      stepper.dispose();
    },
    2,
    1
  );
  const opened = last! as { choice: EngineChoice; dispose: () => void };
  const stepMs = (await timeSigmaStep(opened.choice.engine, dims, images, new Rng(1))) / images;
  opened.dispose();
  const analysed = study.networks.reduce((n, net) => n + (net.role === 'teacher' ? 1 : net.checkpoints.length), 0);
  const maps = analysed * q.images;
  const tasks = analysed * Math.ceil(q.images / q.batch);
  const workers = Math.max(1, Math.min(config.workers, availableParallelism()));
  const parallel = workers > 1 ? workers * 0.9 : 1;
  const seconds = (maps * (expectedSigmaSteps(config) + 2) * stepMs + tasks * setupMs) / 1000 / parallel;
  const ms = (v: number): string => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
  return {
    seconds,
    maps,
    tasks,
    basis: `${maps} maps in ${tasks} tasks; measured ${ms(stepMs)} ms per image per sigma step at K = ${q.samples} and ${ms(setupMs)} ms per task set-up on ${opened.choice.note}, ${workers} worker${workers > 1 ? 's' : ''}`
  };
}
