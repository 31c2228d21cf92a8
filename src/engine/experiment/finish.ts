/*
 * The stages after training, shared by a trained run (runner.ts) and a study of networks trained elsewhere
 * (study/analyse.ts): quantification of every analysed checkpoint (resumable: skipped once state.json says
 * it is done), the analysis into metrics.json, the report, and the run marked finished.
 */
import type { RunConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import type { ExperimentPaths } from './paths';
import type { StateStore } from './state';
import { writeMetrics } from './record';
import { quantifyStage, type AnalysisSet } from './quantify';
import { computeMetrics, networkCheckpoints, type MetricsDocument } from './metrics';
import { inProcessExecutor, type ExecutorFactory } from './quantify-executor';

export interface FinishRun {
  workspace: string;
  id: string;
  config: RunConfig;
  paths: ExperimentPaths;
  state: StateStore;
  /** The analysed images (analysisSet). */
  set: AnalysisSet;
  /** Classes of the dataset (the student-learns check's chance level). */
  classes: number;
  emit: (e: ExperimentEvent) => void;
  options: {
    executor?: ExecutorFactory;
    signal?: AbortSignal;
    writeReport?: (workspace: string, id: string) => Promise<void>;
  };
}

export async function quantifyAndAnalyse(r: FinishRun): Promise<MetricsDocument> {
  const { config, paths, state, set, emit, options } = r;
  if (!state.isDone('quantify')) {
    const t0 = Date.now();
    await state.mark('quantify', 'running');
    emit({ type: 'stage', stage: 'quantify', status: 'running' });
    await quantifyStage({
      config,
      paths,
      set,
      networks: await networkCheckpoints(config, paths),
      factory: options.executor ?? inProcessExecutor,
      emit,
      onTaskEngine: (taskId, engine) => state.recordEngine(taskId, engine),
      signal: options.signal
    });
    const seconds = (Date.now() - t0) / 1000;
    await state.mark('quantify', 'done', { seconds });
    emit({ type: 'stage', stage: 'quantify', status: 'done', seconds });
  }
  emit({ type: 'stage', stage: 'analysis', status: 'running' });
  const metrics = await computeMetrics(config, paths, set, r.classes);
  await writeMetrics(paths, metrics);
  await state.mark('analysis', 'done');
  emit({ type: 'stage', stage: 'analysis', status: 'done' });
  if (options.writeReport) {
    emit({ type: 'stage', stage: 'report', status: 'running' });
    await options.writeReport(r.workspace, r.id);
    await state.mark('report', 'done');
    emit({ type: 'stage', stage: 'report', status: 'done' });
  }
  await state.setStatus('finished');
  return metrics;
}
