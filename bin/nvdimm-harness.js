#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm ci` is the only set-up step.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
