/*
 * End to end: "Analyse trained networks" in Debian's chromium against `kd-lens serve`: the PyTorch
 * fixture's networks added by server folder (a student uploaded from this computer as a folder, a
 * second student method as a zip), checked (epochs, tap, outputs), analysed as a job, the study's pairs and ranking shown in Results, and the second method picked in the Inspector.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeZip } from '../helpers/zip-writer';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../helpers/fixtures';
import { startServeCli, type ServedCli } from '../helpers/serve-cli';

const ROOT = resolve(__dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'study');
const CHROMIUM = process.env.KD_LENS_CHROMIUM ?? '/usr/bin/chromium';

describe('a study in the browser', () => {
  const tmp = tempDir('kd-lens-e2e-study-');
  const workspace = join(tmp.path, 'workspace');
  let served: ServedCli | undefined;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    cpSync(join(FIX, 'dataset'), join(workspace, 'datasets', 'torch-shapes'), { recursive: true });
    served = await startServeCli(workspace);
    const url = served.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(url);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
    tmp.cleanup();
  });

  it('checks the networks, analyses them and shows the study in Results', async () => {
    await page.getByTestId('nav-experiment').click();
    const form = page.getByTestId('study-form');
    await expect.poll(async () => form.getByTestId('study-dataset').locator('option').count()).toBe(2);
    await form.getByTestId('study-dataset').selectOption('torch-shapes');
    await form.getByTestId('study-tap').fill('/fc1/Gemm');
    await form.getByTestId('study-mean').fill('0.5, 0.5, 0.5');
    await form.getByTestId('study-std').fill('0.25, 0.25, 0.25');
    await form.locator('#study-grid').fill('4');
    await form.locator('#study-samples').fill('4');
    await form.locator('#study-images').fill('4');
    await form.getByTestId('study-folder-0').fill(join(FIX, 'teacher'));
    await form.getByTestId('study-folder-2').fill(join(FIX, 'baseline'));
    // The student comes from "this computer": its folder uploaded, unpacked and kept on the server.
    await form.getByTestId('study-upload-folder-1').setInputFiles(join(FIX, 'student'));
    const uploaded = form.getByTestId('study-uploaded-1');
    await expect
      .poll(async () => (await uploaded.count()) > 0 && (await uploaded.innerText()), { timeout: 30_000 })
      .toMatch(/^student \(7 files, uploaded\)/);
    // A second student method (S2), uploaded as a zip of the same networks.
    const zip = join(tmp.path, 'logit-kd.zip');
    writeFileSync(
      zip,
      writeZip(
        readdirSync(join(FIX, 'student')).map((f) => ({
          name: `logit-kd/${f}`,
          data: readFileSync(join(FIX, 'student', f))
        }))
      )
    );
    await form.getByTestId('study-add').click();
    await form.getByTestId('study-upload-zip-3').setInputFiles(zip);
    const zipped = form.getByTestId('study-uploaded-3');
    await expect
      .poll(async () => (await zipped.count()) > 0 && (await zipped.innerText()), { timeout: 30_000 })
      .toMatch(/^logit-kd\.zip \(7 files, uploaded\)/);
    await form.getByTestId('study-check').click();
    const summary = page.getByTestId('study-check-summary');
    await expect
      .poll(async () => (await summary.count()) > 0 && (await summary.innerText()), { timeout: 60_000 })
      .toMatch(/16 px inputs; tap '\/fc1\/Gemm' found in every checkpoint; 3 outputs for the dataset's 3 classes/);
    expect(await page.getByTestId('study-check-result').innerText()).toMatch(/0, 1, 2, 4, 6\s+training log/);
    await page.getByTestId('study-launch').click();
    const row = page.getByTestId('job-row').first();
    await expect.poll(async () => row.getAttribute('data-status'), { timeout: 120_000, interval: 1000 }).toBe('done');
    // The upload was taken into the experiment when the study started.
    expect(existsSync(join(workspace, 'uploads')) ? readdirSync(join(workspace, 'uploads')) : []).toEqual([]);
    const [experiment] = readdirSync(join(workspace, 'experiments'));
    expect(readdirSync(join(workspace, 'experiments', experiment, 'networks'))).toHaveLength(2);
    await page.getByTestId('nav-results').click();
    const select = page.getByTestId('experiment-select');
    const run = select.locator('option:not([disabled])').first();
    await expect.poll(async () => run.count(), { timeout: 30_000 }).toBe(1);
    await select.selectOption((await run.getAttribute('value'))!);
    const study = page.getByTestId('study-results');
    await expect.poll(async () => study.count(), { timeout: 30_000 }).toBe(1);
    expect(await study.innerText()).toMatch(/student \(S\)\s+baseline \(B\)/);
    expect(await page.getByTestId('results-table').count()).toBe(1);
    // The Inspector's student column can show the second method.
    await page.getByTestId('nav-inspector').click();
    const pick = page.getByTestId('inspector-net-S');
    await expect
      .poll(async () => pick.locator('option').allInnerTexts(), { timeout: 30_000 })
      .toEqual(['S · student', 'S2 · student 3']);
    await pick.selectOption('S2');
    const column = page.locator('[data-testid="inspector-column"][data-net="S"]');
    await expect.poll(async () => column.innerText()).toMatch(/Student S2 · student 3/);
    await expect
      .poll(async () => (await column.getByTestId('heatmap').getAttribute('data-checkpoint')) ?? '', {
        timeout: 30_000
      })
      .toMatch(/epoch-\d+/);
  }, 240_000);
});
