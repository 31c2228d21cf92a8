/*
 * The reading part of KdApi over the workspace's runs, behind both transports: the run list, one
 * run's detail, a checkpoint's maps, an inspector image and the HTML report (written on first ask).
 * Reads only; a link inside a run folder is refused before the report is written through it.
 */
import { promises as fs } from 'node:fs';
import type { ExperimentSummary, KdApi } from '../common/api';
import { experimentsDir } from '../engine/store/workspace';
import { exists } from '../engine/store/atomic';
import { refuseLinks } from '../engine/store/links';
import { ExperimentPaths } from '../engine/experiment/paths';
import { writeReport } from '../engine/report/html';
import { experimentPaths, experimentDetail, checkpointMaps, inspectorImage, listedSummary } from './experiment-views';
import type { JobManager } from './jobs';

export type ResultsApi = Pick<
  KdApi,
  'listExperiments' | 'getExperiment' | 'getMaps' | 'getInspectorImage' | 'getReport'
>;

export function createResultsApi(o: { workspace: string; jobs: JobManager }): ResultsApi {
  const ws = o.workspace;
  const running = (id: string): boolean => Boolean(o.jobs.activeFor(id));
  return {
    async listExperiments() {
      const dir = experimentsDir(ws);
      const ids = (await fs.readdir(dir).catch(() => [] as string[])).filter((d) => !d.startsWith('.'));
      const out: ExperimentSummary[] = [];
      for (const id of ids) {
        const listed = await listedSummary(ws, new ExperimentPaths(ws, id), running(id));
        if (listed) out.push(listed);
      }
      return out.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },
    async getExperiment({ experimentId }) {
      return experimentDetail(ws, await experimentPaths(ws, experimentId), running(experimentId));
    },
    async getMaps({ experimentId, net, checkpoint }) {
      return checkpointMaps(await experimentPaths(ws, experimentId), net, checkpoint);
    },
    async getInspectorImage({ experimentId, index }) {
      return inspectorImage(ws, await experimentPaths(ws, experimentId), index);
    },
    async getReport({ experimentId }) {
      const paths = await experimentPaths(ws, experimentId);
      if (!(await exists(paths.report))) {
        await refuseLinks(ws, [paths.report]);
        await writeReport(ws, experimentId);
      }
      return { path: paths.report, html: await fs.readFile(paths.report, 'utf8') };
    }
  };
}
