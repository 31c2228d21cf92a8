// `npm run test:electron`: an Electron smoke test with Playwright's _electron, for machines where
// the Electron binary exists (it is not part of `npm test`: the binary cannot be downloaded here).
// Opens the built app on a fresh workspace, runs the quick demo from the Experiment view, waits for
// it to finish, and reads the results table. On Linux without a display it re-runs under xvfb-run.
import { _electron as electron } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let executablePath;
try {
  executablePath = require('electron');
} catch (err) {
  console.error(
    `The Electron binary is not installed (${err.message}). Install it with a plain \`npm ci\` (without ELECTRON_SKIP_BINARY_DOWNLOAD) on a machine that can download it.`
  );
  process.exit(1);
}
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.KD_LENS_XVFB) {
  const r = spawnSync('xvfb-run', ['-a', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, KD_LENS_XVFB: '1' }
  });
  process.exit(r.status ?? 1);
}
if (!existsSync('out/main/index.js')) spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });

const workspace = mkdtempSync(join(tmpdir(), 'kd-lens-electron-'));
const app = await electron.launch({
  executablePath,
  args: ['.', '--no-sandbox'],
  env: { ...process.env, KD_LENS_WORKSPACE: workspace }
});
const fail = async (message) => {
  console.error(message);
  await app.close();
  process.exit(1);
};
try {
  const page = await app.firstWindow();
  await page.getByTestId('backend-status').waitFor({ timeout: 60_000 });
  console.log('backend:', await page.getByTestId('backend-status').innerText());
  await page.getByTestId('nav-experiment').click();
  // The demo data is generated on first start; the button waits for it.
  await page.getByTestId('run-demo-quick').click({ timeout: 120_000 });
  const row = page.getByTestId('job-row').first();
  const deadline = Date.now() + 10 * 60_000;
  let status = '';
  while (Date.now() < deadline) {
    status = (await row.getAttribute('data-status')) ?? '';
    if (status === 'done' || status === 'failed' || status === 'cancelled') break;
    await page.waitForTimeout(2000);
  }
  if (status !== 'done') await fail(`the quick demo ended as '${status}'`);
  await page.getByTestId('nav-results').click();
  await page.getByTestId('results-table').waitFor({ timeout: 60_000 });
  for (const role of ['teacher', 'student', 'baseline']) {
    const v = await page.getByTestId(`cell-${role}-N_fg`).getAttribute('data-value');
    if (v === null || !Number.isFinite(Number(v))) await fail(`no N_fg for ${role}`);
    console.log(`${role}: N_fg ${v}`);
  }
  await page.screenshot({ path: join(workspace, 'electron-results.png') });
  console.log(`Electron smoke test passed (screenshot in ${workspace})`);
} finally {
  await app.close();
}
