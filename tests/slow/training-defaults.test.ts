/*
 * Do the stage defaults train without a rollback (issue 20)? The training stages only (the run is
 * stopped when quantification starts) of the quick demo and of the own-dataset defaults on the
 * natural-photo set, and of the form's defaults on a real-photo VOC-layout set built at test time,
 * zipped, uploaded and imported through the server's upload path and the VOC importer; each stage's
 * rollbacks, clipped steps and gradient norms printed. Slow (minutes on 2 cores): runs only with
 * KD_LENS_TRAIN_DEFAULTS naming some of demo, photo, voc (comma-separated; the photos need Debian's
 * mate-backgrounds, see tests/helpers/photo-dataset.ts).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { useBackend } from '../helpers/tf';
import { tempDir } from '../helpers/fixtures';
import { writePhotoDataset, photosAvailable } from '../helpers/photo-dataset';
import { createExperiment, runExperiment } from '../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../src/engine/experiment/paths';
import { readTrainLog } from '../../src/engine/experiment/record';
import { defaultConfig, demoConfig, mergeConfig } from '../../src/common/defaults';
import { ensureDemoDatasets } from '../../src/engine/data';
import type { RunConfig } from '../../src/common/config';
import { importDataset, loadDataset } from '../../src/engine/data';
import { IMPORT_DEFAULTS } from '../../src/engine/data/options';
import { createUploads, UPLOAD_PART_BYTES } from '../../src/host/uploads';
import { vocPhotoZip } from '../helpers/voc-photo-zip';

/** Uploads `zip` in the server's parts and imports it through uploadFinish (the real VOC importer); the dataset's id. */
async function uploadAndImport(ws: string, zip: Buffer, request: { name: string; size: number }): Promise<string> {
  let imported: Promise<unknown> = Promise.resolve();
  const uploads = createUploads({
    workspace: ws,
    importDataset: async (r) => {
      imported = importDataset({ ...r, workspace: ws });
      return { jobId: 'import', done: imported };
    }
  });
  const { uploadId } = await uploads.uploadStart({ totalBytes: zip.length });
  for (let offset = 0; offset < zip.length; offset += UPLOAD_PART_BYTES) {
    const data = zip.subarray(offset, offset + UPLOAD_PART_BYTES).toString('base64');
    await uploads.uploadPart({ uploadId, path: 'VOCtrainval.zip', offset, data, fileBytes: zip.length });
  }
  const { folder } = await uploads.uploadFinish({ uploadId, request: { format: 'voc', ...request } });
  process.stdout.write(`  imported from ${folder.slice(ws.length)}\n`);
  await imported;
  return request.name;
}

const asked = (process.env.KD_LENS_TRAIN_DEFAULTS ?? '').split(',');
if ((asked.includes('photo') || asked.includes('voc')) && !photosAvailable())
  throw new Error('KD_LENS_TRAIN_DEFAULTS=photo or voc but the photos are missing: apt-get install mate-backgrounds');

/** Trains every network of the run (stopping when quantification starts) and returns one line per stage. */
async function trainOnly(ws: string, config: RunConfig): Promise<{ lines: string[]; rollbacks: number }> {
  const id = await createExperiment(ws, config);
  const controller = new AbortController();
  const t0 = Date.now();
  await runExperiment(ws, id, {
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'stage' && e.stage === 'quantify' && e.status === 'running') controller.abort();
      if (e.type === 'log') process.stdout.write(`  ${e.message}\n`);
    }
  }).catch((err: Error) => {
    if (!controller.signal.aborted) throw err;
  });
  const lines: string[] = [`${config.name}: training ${((Date.now() - t0) / 1000).toFixed(0)} s`];
  let rollbacks = 0;
  for (const net of ['T', 'S', 'B']) {
    const logs = await readTrainLog(new ExperimentPaths(ws, id), net);
    for (const stage of [...new Set(logs.map((l) => l.stage))]) {
      const ls = logs.filter((l) => l.stage === stage);
      const rb = ls.flatMap((l) => l.rollbacks ?? []);
      rollbacks += rb.length;
      const clipped = ls.reduce((a, l) => a + (l.clip?.clippedSteps ?? 0), 0);
      const steps = ls.reduce((a, l) => a + (l.clip?.steps ?? 0), 0);
      const norms = ls.map((l) => l.gradNorm?.mean ?? 0);
      const max = Math.max(...ls.map((l) => l.gradNorm?.max ?? 0));
      const last = ls[ls.length - 1];
      lines.push(
        `  ${net} ${stage}: ${ls.length} epochs, rollbacks ${rb.length}, clipped ${clipped}/${steps} steps, grad norm mean ${norms[0].toFixed(2)} (epoch 1) .. ${norms[norms.length - 1].toFixed(2)} (last), max ${max.toFixed(2)}, loss ${last.loss.toFixed(4)}, val acc ${last.valAccuracy === null ? '-' : last.valAccuracy.toFixed(3)}`
      );
    }
  }
  return { lines, rollbacks };
}

/** Trains the run's networks, prints a line per stage, and expects no rollback in any of them. */
async function expectNoRollback(ws: string, config: RunConfig): Promise<void> {
  const r = await trainOnly(ws, config);
  process.stdout.write(r.lines.join('\n') + '\n');
  expect(r.rollbacks).toBe(0);
}

/** The source set of the photo runs: 300 images a class from the upper half of the photos (32 px unless given). */
const writePhotoSource = (ws: string, size?: number): Promise<unknown> =>
  writePhotoDataset(ws, 'photo-source', { perClass: 300, valPerClass: 0, half: 'upper', seed: 2, size });

/** The own-dataset defaults of `config` with the teacher pretrained 8 epochs on the photo source, run to the end. */
const withPhotoSource = (config: RunConfig): RunConfig =>
  mergeConfig(config, { teacher: { source: 'photo-source', pretrain: { epochs: 8 } }, checks: { stopOnFail: false } });

describe('the training defaults train without a rollback', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it.skipIf(!asked.includes('demo'))(
    'on the quick demo',
    async () => {
      await useBackend('wasm');
      await ensureDemoDatasets(tmp.path);
      await expectNoRollback(tmp.path, { ...demoConfig(true), checks: { stopOnFail: false } });
    },
    1_800_000
  );

  it.skipIf(!asked.includes('photo'))(
    'on the natural-photo set with the own-dataset defaults',
    async () => {
      await useBackend('wasm');
      const ws = `${tmp.path}/photo`;
      await writePhotoDataset(ws, 'photo', { perClass: 24, valPerClass: 30, half: 'lower', seed: 1 });
      await writePhotoSource(ws);
      await expectNoRollback(ws, withPhotoSource(defaultConfig('photo')));
    },
    3_600_000
  );

  it.skipIf(!asked.includes('voc'))(
    "on a real-photo VOC-layout set uploaded as a zip, with the form's defaults for it",
    async () => {
      await useBackend('wasm');
      const ws = `${tmp.path}/voc`;
      // The import wizard's default image size (KD_LENS_VOC_SIZE=32 for a run four times quicker).
      const size = Number(process.env.KD_LENS_VOC_SIZE ?? IMPORT_DEFAULTS.size);
      const { zip } = await vocPhotoZip({ trainPerClass: 24, valPerClass: 30, seed: 3 });
      const id = await uploadAndImport(ws, zip, { name: 'voc-photo', size });
      const manifest = await loadDataset(ws, id);
      const split = (s: string): number => manifest.samples.filter((x) => x.split === s).length;
      process.stdout.write(`  ${id}: ${manifest.classes.join(', ')}; ${split('train')} train, ${split('val')} val\n`);
      expect(manifest.format).toBe('voc');
      expect(manifest.samples.every((x) => x.maskOrigin === 'segmentation')).toBe(true);
      expect([split('train'), split('val')]).toEqual([120, 150]);
      await writePhotoSource(ws, size);
      await expectNoRollback(ws, withPhotoSource(defaultConfig(id, manifest.size)));
    },
    3_600_000
  );

  it.skipIf(!asked.includes('photo'))(
    'on the photo set a teacher without a source, fine-tuned 2 epochs, stops the run after the baseline',
    async () => {
      await useBackend('wasm');
      const ws = `${tmp.path}/photo-stop`;
      await writePhotoDataset(ws, 'photo', { perClass: 24, valPerClass: 30, half: 'lower', seed: 1 });
      const config = mergeConfig(defaultConfig('photo'), { teacher: { finetune: { epochs: 2 } } });
      const id = await createExperiment(ws, config);
      const started: string[] = [];
      const err = await runExperiment(ws, id, {
        onEvent: (e) => (e.type === 'stage' && e.status === 'running' ? void started.push(e.stage) : undefined)
      }).catch((e: unknown) => e as Error);
      process.stdout.write(`${(err as Error).message}\n`);
      expect((err as Error).message).toMatch(/stopped after the baseline .* the teacher is weaker than the baseline/);
      expect(started).toEqual(['load data', 'teacher finetune', 'baseline']);
    },
    1_800_000
  );
});
