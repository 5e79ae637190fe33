/**
 * `nvdimm-harness mutate` on real guests: the shipped scenarios it runs in `npm test` have no unexplained
 * survivor, and a scenario whose configuration no check depends on is caught.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

const mutate = (...args: string[]) => execa('node', [CLI, 'mutate', ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });

describe('nvdimm-harness mutate', { timeout: 600_000 }, () => {
  it('finds every mutant of share-off.yaml killed, or documented in the scenario', async () => {
    const r = await mutate('scenarios/share-off.yaml');
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(
      /share-off\.yaml .*: \d+ expectation mutants \(\d+ killed, 0 survived\), 2 configuration mutants \(1 killed, 1 survived\)/,
    );
    expect(r.stdout).toContain('survived, as documented: guests.other.nvdimms.0.backend.share: on -> off');
    expect(r.stdout).not.toMatch(/SURVIVED/);
  });

  it('fails on a survivor the scenario does not explain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-mutate-test-'));
    try {
      const text = (await readFile(join(ROOT, 'scenarios/basic.yaml'), 'utf8')).replace(/\nsurvivors:[\s\S]*$/, '\n');
      await writeFile(join(dir, 'basic.yaml'), text);
      const r = await mutate(join(dir, 'basic.yaml'));
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stdout).toContain('SURVIVED: guests.nolabel.nvdimms.0.backend.share: on -> off');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
