#!/usr/bin/env node
// The installed package has only what `npm pack` compiled into dist/. A clone runs its TypeScript through
// tsx, so that `npm ci` is its only set-up step, unless `npm run build` has compiled these very sources into
// dist/ (`npm test` does): then it runs that, which costs 0.6-1 s less CPU a start (no tsx, no transforms).
import { existsSync } from 'node:fs';
import { builtFromSources } from './built.js';

const source = new URL('../harness/cli/main.ts', import.meta.url);
if (existsSync(source) && !builtFromSources()) {
  // `run` loads vitest, and vite with it, before tsx's hooks are in place: through them every one of those
  // modules cost time, and a run that boots nothing took 4.1 s instead of 3.3 s (5.4 s of CPU instead of 4.2 s).
  if (process.argv[2] === 'run') await import('vitest/node');
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/harness/cli/main.js');
}
