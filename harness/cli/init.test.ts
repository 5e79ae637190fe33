/**
 * `nvdimm-harness init` in an empty folder: what it writes is a valid scenario, a vitest configuration using
 * the exported plugin and a valid GitHub workflow, and it never overwrites. (harness/cli/pack.integration.test.ts
 * runs what it writes, from the installed package.)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateScenario } from '../index.js';
import { INIT_FILES } from './init.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nvdimm-init-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const cli = (...args: string[]) => execa('node', [CLI, ...args], { cwd: dir, reject: false, env: { FORCE_COLOR: '0' } });

describe('init', () => {
  it('writes the starter scenario, the vitest configuration and the workflow from templates/', async () => {
    const r = await cli('init');
    expect(r.exitCode, r.stderr).toBe(0);
    for (const [target, template] of Object.entries(INIT_FILES)) {
      expect(await readFile(join(dir, target), 'utf8')).toBe(await readFile(join(ROOT, 'templates', template), 'utf8'));
      expect(r.stdout).toContain(`wrote ${target}`);
    }
    expect(validateScenario(join(dir, 'scenarios/example.yaml'))).toEqual([]);
    expect(await readFile(join(dir, 'vitest.config.mts'), 'utf8')).toContain("import { nvdimmScenarios } from 'nvdimm-harness/vitest';");
    const workflow = await readFile(join(dir, '.github/workflows/nvdimm.yml'), 'utf8');
    expect(validateWorkflow(workflow).errors).toEqual([]);
    expect(validateWorkflow(workflow.replace('runs-on:', 'runs_on:')).errors).not.toEqual([]);
  });

  it('refuses to overwrite any of its files: one line, exit 2, nothing written', async () => {
    await writeFile(join(dir, 'vitest.config.mts'), 'mine\n');
    const r = await cli('init');
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe('nvdimm-harness: init: vitest.config.mts already here; nothing was written');
    expect(await readFile(join(dir, 'vitest.config.mts'), 'utf8')).toBe('mine\n');
    await expect(readFile(join(dir, 'scenarios/example.yaml'))).rejects.toThrow(/ENOENT/);
  });
});
