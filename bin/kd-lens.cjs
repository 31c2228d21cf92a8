#!/usr/bin/env node
// The kd-lens command. The TypeScript sources are bundled into out/cli by `npm run build`.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const entry = join(__dirname, '..', 'out', 'cli', 'index.cjs');
if (!existsSync(entry)) {
  process.stderr.write(
    'kd-lens: the CLI is not built yet; run `npm run build` (or `npm run build:cli`) in ' + join(__dirname, '..') + '\n'
  );
  process.exit(1);
}
require(entry);
