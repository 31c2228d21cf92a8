// `npm start`: build, then open the Electron app; where the Electron binary is missing (it cannot
// be downloaded on every machine), serve the same UI to a browser instead.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run('npm', ['run', 'build']);
let electronPath = null;
try {
  electronPath = require('electron');
  if (typeof electronPath !== 'string' || !existsSync(electronPath)) electronPath = null;
} catch {
  electronPath = null;
}
if (electronPath) {
  const child = spawn(electronPath, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log(
    'The Electron binary is not installed here (ELECTRON_SKIP_BINARY_DOWNLOAD); serving the same UI to your browser instead.'
  );
  const child = spawn(process.execPath, ['bin/kd-lens.cjs', 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
