#!/usr/bin/env node
// A clone runs the TypeScript through tsx, so `npm ci` is its only set-up step; the installed package has no
// TypeScript, only what `npm pack` compiled into dist/.
import { existsSync } from 'node:fs';

const source = new URL('../harness/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/harness/cli/main.js');
}
