/*
 * The launching part of KdApi behind both transports: a run's default configuration, its time
 * estimate, the source probe, and starting or resuming a run or a study as an experiment job.
 * Every path a configuration names is confined first (allowedPath; the .onnx files of an
 * ONNX-architecture run by onnx-run-checks.ts), so a refused run writes nothing and starts no job.
 */
import { cpus as cpuList } from 'node:os';
import type { KdApi, KdEvent, SourceProbe } from '../common/api';
import type { AnyRunConfig, RunConfig } from '../common/config';
import { RunConfigSchema, isOnnxRunConfig } from '../common/config';
import { parseWith } from '../common/schema';
import { CallerError, RequestError, conflict } from '../common/errors';
import { demoConfig, defaultConfig } from '../common/defaults';
import { loadDataset } from '../engine/data';
import { refuseLinks } from '../engine/store/links';
import { createExperiment } from '../engine/experiment/runner';
import { calibrationRequest, estimateBasis, type Calibration } from '../engine/estimate';
import { experimentPaths } from './experiment-views';
import { refinedEstimate } from './estimate-runs';
import { checkStudy, createStudy, studyFromRequest, type StudyFolders } from './study-api';
import type { createOnnxRunChecks } from './onnx-run-checks';
import type { JobManager } from './jobs';
import type { AllowedPath } from './service-access';
import type { SharedCalibration } from './calibration-queue';

export type LaunchApi = Pick<
  KdApi,
  'defaultConfig' | 'estimate' | 'startExperiment' | 'checkStudy' | 'startStudy' | 'probeSource' | 'resumeExperiment'
>;

export interface LaunchApiOptions {
  workspace: string;
  jobs: JobManager;
  emit: (e: KdEvent) => void;
  allowedPath: AllowedPath;
  /** Runs a calibration job and returns its timings. */
  calibrate: (config: RunConfig, numClasses: number) => Promise<Calibration>;
  /** The service's calibration queue (calibration-queue.ts). */
  shared: SharedCalibration;
  /** The checks of an ONNX-architecture run (onnx-run-checks.ts). */
  onnx: ReturnType<typeof createOnnxRunChecks>;
  /** Runs the pre-launch probe in a job process (absent: the method says it is not available here). */
  probeSource?: (config: AnyRunConfig) => Promise<SourceProbe>;
  studyFolders: StudyFolders;
}

export function createLaunchApi(o: LaunchApiOptions): LaunchApi {
  const ws = o.workspace;
  const { onnxPaths, checkedOnnx, onnxEstimate } = o.onnx;

  const calibrationFor = (config: RunConfig, numClasses: number): Promise<Calibration> =>
    o.shared(JSON.stringify([calibrationRequest(config, numClasses), config.backend]), () =>
      o.calibrate(config, numClasses)
    );

  const experimentJob = (experimentId: string, title: string, force = false): string => {
    if (o.jobs.activeFor(experimentId)) throw conflict(`experiment ${experimentId} is already running`);
    const { info } = o.jobs.start(
      'experiment',
      title,
      { kind: 'experiment', workspace: ws, experimentId, ...(force ? { force } : {}) },
      { experimentId }
    );
    o.emit({ type: 'experiments-changed' });
    return info.id;
  };

  return {
    async defaultConfig({ kind, datasetId }) {
      if (kind === 'dataset') {
        if (!datasetId) throw new RequestError('defaultConfig: datasetId is required for kind "dataset"');
        return defaultConfig(datasetId, (await loadDataset(ws, datasetId)).size);
      }
      return demoConfig(kind === 'demo-quick');
    },
    async estimate({ config }) {
      if (isOnnxRunConfig(config)) return onnxEstimate(config);
      const target = await loadDataset(ws, config.dataset);
      const source = config.teacher.source ? await loadDataset(ws, config.teacher.source).catch(() => null) : null;
      const cal = await calibrationFor(config, target.classes.length);
      const counts = {
        targetTrain: target.samples.filter((s) => s.split === 'train').length,
        sourceTrain: source ? source.samples.filter((s) => s.split === 'train').length : 0
      };
      const { seconds, stages, refinement, refined, probe } = await refinedEstimate({
        workspace: ws,
        config,
        counts,
        cal,
        cpus: cpuList().length
      });
      return { seconds, stages, basis: estimateBasis(cal, refinement), refined, probe };
    },
    async startExperiment({ config }) {
      await loadDataset(ws, config.dataset);
      if (isOnnxRunConfig(config)) {
        const experimentId = await createExperiment(ws, await onnxPaths(config)).catch((err: unknown) => {
          // A file that is not a usable ONNX architecture is the caller's mistake (400), named by onnx-arch.ts.
          throw err instanceof CallerError || !(err instanceof Error) ? err : new RequestError(err.message);
        });
        return { experimentId, jobId: experimentJob(experimentId, `experiment ${config.name}`) };
      }
      if (config.teacher.pretrained)
        config = {
          ...config,
          teacher: {
            ...config.teacher,
            pretrained: await o.allowedPath(config.teacher.pretrained, 'pretrained teacher folder')
          }
        };
      const experimentId = await createExperiment(ws, parseWith(RunConfigSchema, config, 'configuration'));
      return { experimentId, jobId: experimentJob(experimentId, `experiment ${config.name}`) };
    },
    async checkStudy({ study }) {
      return checkStudy(ws, await studyFromRequest(study, o.studyFolders));
    },
    async startStudy({ study }) {
      const experimentId = await createStudy(ws, study, o.studyFolders);
      return { experimentId, jobId: experimentJob(experimentId, `study ${study.name}`) };
    },
    async probeSource({ config }) {
      if (!config.teacher.source && !config.teacher.pretrained)
        throw new RequestError('the probe needs a source dataset or a pretrained teacher in the configuration');
      if (!o.probeSource) throw new Error('the source probe is not available in this host');
      // An ONNX architecture: its files read against the workspace and checked as startExperiment checks them
      // (400 naming the node, or teacher.source when the source is not a usable dataset).
      if (isOnnxRunConfig(config)) return o.probeSource((await checkedOnnx(config)).config);
      await loadDataset(ws, config.dataset);
      if (config.teacher.source) await loadDataset(ws, config.teacher.source);
      const pretrained = config.teacher.pretrained
        ? await o.allowedPath(config.teacher.pretrained, 'pretrained teacher folder')
        : null;
      return o.probeSource({ ...config, teacher: { ...config.teacher, pretrained } });
    },
    async resumeExperiment({ experimentId, force }) {
      await refuseLinks(ws, [(await experimentPaths(ws, experimentId)).config]);
      return { jobId: experimentJob(experimentId, `resume ${experimentId}${force ? ' past its checks' : ''}`, force) };
    }
  };
}
