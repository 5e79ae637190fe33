/** run, list and matrix with no file named take ./scenarios, as in a project that uses the harness, or say how to name files. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nvdimm-scenarios-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const cli = (...args: string[]) => execa('node', [CLI, ...args], { cwd: dir, reject: false, env: { FORCE_COLOR: '0' } });

describe('with no file named', () => {
  it('run, list and matrix say how to name files when there is no scenarios/ here: one line, exit 2', async () => {
    for (const command of ['run', 'list', 'matrix']) {
      const r = await cli(command);
      expect(r.exitCode, command).toBe(2);
      expect(r.stderr.trim(), command).toBe(
        `nvdimm-harness: no scenarios/ folder in ${dir}: name scenario files or folders (e.g. nvdimm-harness run my.yaml), or write a first one with nvdimm-harness init`,
      );
    }
  });

  it("list and matrix take this directory's scenarios/", async () => {
    await mkdir(join(dir, 'scenarios'));
    await writeFile(join(dir, 'scenarios/mine.yaml'), await readFile(join(ROOT, 'scenarios/basic.yaml'), 'utf8'));
    const list = await cli('list');
    expect(list.exitCode, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^scenarios\/mine\.yaml — Basic usage/);
    const matrix = await cli('matrix', '--json');
    expect(matrix.exitCode, matrix.stderr).toBe(0);
    const cells = (JSON.parse(matrix.stdout) as { include: { id: string; scenarios: string }[] }).include;
    // The default matrix: every QEMU build, pc and q35 with the default image, virt with the arm64 one, one shard.
    expect(cells.map((c) => c.id).sort()).toEqual(
      ['10.0', '11.1', '5.2', '7.2']
        .flatMap((q) => [...['pc', 'q35'].map((m) => `qemu-${q}-debian-bookworm-${m}-1of1`), `qemu-${q}-debian-bookworm-arm64-virt-1of1`])
        .sort(),
    );
    expect(new Set(cells.map((c) => c.scenarios))).toEqual(new Set(['scenarios']));
  });
});
