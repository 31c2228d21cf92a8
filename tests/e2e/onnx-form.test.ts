/*
 * End to end: "your own network (ONNX file)" in Debian's chromium against the built `kd-lens serve`.
 * A file that is not a model is refused naming it; the tiny PyTorch export is uploaded into the
 * workspace's models/, the host's tap choices appear (the nodes from input to classifier), the
 * host's check refuses another model's op without a gradient rule and accepts the tiny one,
 * and Launch sends exactly the run-configuration contract (architecture { onnx }, tap,
 * teacher.pretrained "models/tiny-arch.onnx"); the server starts the experiment, whose frozen
 * configuration (onnxRun) names the tap and a byte-identical copy of the file. Then the teacher
 * pretrained on a source dataset of the workspace: "Probe the source" sends the ONNX configuration
 * with teacher.source, and the job (onnx-arch-probe.ts on ONNX Runtime) answers with the numbers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../helpers/fixtures';
import { startServeCli, type ServedCli } from '../helpers/serve-cli';

const ROOT = resolve(__dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures');
const CHROMIUM = process.env.KD_LENS_CHROMIUM ?? '/usr/bin/chromium';

describe('an ONNX teacher in the browser form', () => {
  const tmp = tempDir('kd-lens-e2e-onnx-form-');
  const workspace = join(tmp.path, 'workspace');
  let served: ServedCli | undefined;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    cpSync(join(FIX, 'study', 'dataset'), join(workspace, 'datasets', 'torch-shapes'), { recursive: true });
    // The same images under another id: a source dataset for the teacher's pretraining.
    const src = join(workspace, 'datasets', 'torch-src');
    cpSync(join(FIX, 'study', 'dataset'), src, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(src, 'dataset.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(src, 'dataset.json'), JSON.stringify({ ...manifest, id: 'torch-src', name: 'torch-src' }));
    served = await startServeCli(workspace);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(served.url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    tmp.cleanup();
  });

  it('uploads the model, offers its taps and launches the ONNX configuration', async () => {
    await page.getByTestId('nav-experiment').click();
    const dataset = page.getByTestId('config-dataset');
    await expect.poll(async () => dataset.locator('option[value="torch-shapes"]').count()).toBe(1);
    await dataset.selectOption('torch-shapes');
    await expect.poll(async () => page.getByTestId('config-architecture-inputSize').inputValue()).toBe('16');
    await page.locator('#config-quantification-images').fill('4');
    await page.getByTestId('teacher-mode-onnx').check();
    const status = page.getByTestId('onnx-upload-status');
    // Not a model: refused by the server, naming the file; nothing is kept.
    const junk = join(tmp.path, 'notes.onnx');
    writeFileSync(junk, 'these are notes, not a network');
    await page.getByTestId('onnx-upload').setInputFiles(junk);
    await expect
      .poll(async () => (await status.count()) > 0 && (await status.innerText()), { timeout: 30_000 })
      .toMatch(/^notes\.onnx: not (a readable ONNX file|an ONNX model)/);
    expect(existsSync(join(workspace, 'models')) ? readdirSync(join(workspace, 'models')) : []).toEqual([]);
    // A model with a Sin between input and classifier: the host's check names the node, Launch waits.
    await page.getByTestId('onnx-upload').setInputFiles(join(FIX, 'onnx-arch', 'sin-op.onnx'));
    const model = page.getByTestId('onnx-model');
    await expect.poll(async () => model.inputValue(), { timeout: 30_000 }).toBe('models/sin-op.onnx');
    const tap = page.getByTestId('onnx-tap');
    await expect.poll(async () => tap.inputValue(), { timeout: 30_000 }).toBe('/Relu_1');
    const problem = page.getByTestId('onnx-problem');
    await expect
      .poll(async () => (await problem.count()) > 0 && (await problem.innerText()), { timeout: 30_000 })
      .toMatch(/^models\/sin-op\.onnx: node '\/Sin' is a Sin, an op without a gradient rule/);
    expect(await page.getByTestId('launch').isDisabled()).toBe(true);
    // The tiny export: uploaded, chosen, described by the host.
    await page.getByTestId('onnx-upload').setInputFiles(join(FIX, 'onnx-arch', 'tiny-arch.onnx'));
    await expect.poll(async () => model.inputValue(), { timeout: 30_000 }).toBe('models/tiny-arch.onnx');
    expect(
      readFileSync(join(workspace, 'models', 'tiny-arch.onnx')).equals(
        readFileSync(join(FIX, 'onnx-arch', 'tiny-arch.onnx'))
      )
    ).toBe(true);
    const summary = page.getByTestId('onnx-summary');
    await expect
      .poll(async () => (await summary.count()) > 0 && (await summary.innerText()), { timeout: 30_000 })
      .toMatch(
        /Input 3×16×16 \(‘input’\); classifier \/fc\/Gemm \(Gemm, 6 features → 5 outputs, replaced by one with 3 outputs\); 9 candidate taps/
      );
    expect(await tap.locator('option').allInnerTexts()).toEqual([
      'choose a node',
      '/conv1/Conv (Conv)',
      '/bn1/BatchNormalization (BatchNormalization)',
      '/Relu (Relu)',
      '/pool/MaxPool (MaxPool)',
      '/conv2/Conv (Conv)',
      '/Relu_1 (Relu)',
      '/gap/GlobalAveragePool (GlobalAveragePool)',
      '/Flatten (Flatten)',
      '/fc/Gemm (Gemm)'
    ]);
    await tap.selectOption('/pool/MaxPool');
    await expect.poll(async () => page.getByTestId('onnx-ok').count(), { timeout: 30_000 }).toBe(1);
    expect(await page.getByTestId('config-architecture-family').isDisabled()).toBe(true);
    const launch = page.getByTestId('launch');
    await expect.poll(async () => launch.isEnabled(), { timeout: 30_000 }).toBe(true);
    const [request, response] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/api/startExperiment')),
      page.waitForResponse((r) => r.url().endsWith('/api/startExperiment')),
      launch.click()
    ]);
    const sent = (request.postDataJSON() as { config: Record<string, unknown> }).config;
    expect(sent.architecture).toEqual({ onnx: 'models/tiny-arch.onnx' });
    expect(sent.tap).toBe('/pool/MaxPool');
    expect(sent.teacher).toMatchObject({ source: null, pretrained: 'models/tiny-arch.onnx' });
    expect(sent.dataset).toBe('torch-shapes');
    expect(sent.name).toMatch(/^torch-shapes-tiny-arch-pool-MaxPool-e\d+/);
    const answer = (await response.json()) as { result?: { experimentId: string }; error?: string };
    expect(response.status()).toBe(200);
    // The experiment froze the ONNX fields (onnxRun) with a copy of the file inside its folder.
    const folder = join(workspace, 'experiments', answer.result!.experimentId);
    const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as {
      onnxRun: { architecture: { onnx: string }; tap: string; pretrained: string | null };
    };
    expect(config.onnxRun.tap).toBe('/pool/MaxPool');
    const copy = config.onnxRun.architecture.onnx;
    expect(readFileSync(isAbsolute(copy) ? copy : join(folder, copy))).toEqual(
      readFileSync(join(FIX, 'onnx-arch', 'tiny-arch.onnx'))
    );
  }, 180_000);

  it('pretrains the ONNX teacher on a source dataset and probes it on the engine', async () => {
    // A fresh page: the launch above moves the app to the run's view when it answers, which on a
    // loaded machine can come after this test has started filling the form.
    await page.goto(served!.url);
    await page.getByTestId('nav-experiment').click();
    await page.getByTestId('config-dataset').selectOption('torch-shapes');
    await expect.poll(async () => page.getByTestId('config-architecture-inputSize').inputValue()).toBe('16');
    await page.getByTestId('teacher-mode-onnx').check();
    const model = page.getByTestId('onnx-model');
    await expect.poll(async () => model.locator('option[value="models/tiny-arch.onnx"]').count()).toBe(1);
    await model.selectOption('models/tiny-arch.onnx');
    await expect.poll(async () => page.getByTestId('onnx-tap').inputValue(), { timeout: 30_000 }).toBe('/Relu_1');
    await page.getByTestId('onnx-start-source').check();
    const source = page.getByTestId('onnx-source');
    // The target is not offered as its own source.
    const values = await Promise.all((await source.locator('option').all()).map((o) => o.getAttribute('value')));
    expect(values).toEqual(['', 'torch-src']);
    expect(await source.inputValue()).toBe('torch-src');
    const run = page.getByTestId('probe-run');
    await expect.poll(async () => run.isEnabled(), { timeout: 30_000 }).toBe(true);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/api/probeSource')),
      run.click()
    ]);
    const sent = (request.postDataJSON() as { config: Record<string, unknown> }).config;
    expect(sent.architecture).toEqual({ onnx: 'models/tiny-arch.onnx' });
    expect(sent.teacher).toMatchObject({ source: 'torch-src', pretrained: null });
    const result = page.getByTestId('probe-result');
    await expect
      .poll(async () => (await result.count()) > 0 && (await result.innerText()), { timeout: 120_000 })
      .toMatch(
        /^probe: after \d target epoch\(s\) the teacher from the source 'torch-src' \(\d epoch\(s\) on 30 images\) reaches \d+\.\d % against the baseline's \d+\.\d % \(validation accuracy\)/
      );
  }, 180_000);
});
