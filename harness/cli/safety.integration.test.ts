/**
 * Two promises about other people's things, checked on real runs: two harness runs at once do not collide,
 * and a backend file the scenario names (rather than one the harness makes) is left as it was.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nvh-safety-test-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => execa('node', [CLI, 'run', ...args], { cwd: ROOT, reject: false, env: { FORCE_COLOR: '0' } });

describe("harness runs and other people's files", { timeout: 300_000 }, () => {
  it('two runs at once on one machine both pass', async () => {
    const [a, b] = await Promise.all([run('scenarios/basic.yaml'), run('scenarios/basic.yaml')]);
    expect(a.exitCode, `${a.stdout}${a.stderr}`).toBe(0);
    expect(b.exitCode, `${b.stdout}${b.stderr}`).toBe(0);
  });

  it('an existing backend file that a guest writes to with share=off is byte for byte as it was', async () => {
    const data = join(dir, 'golden.img');
    await writeFile(data, randomBytes(16 * 2 ** 20));
    const before = {
      sha: createHash('sha256')
        .update(await readFile(data))
        .digest('hex'),
      mtime: (await stat(data)).mtimeMs,
    };
    await writeFile(
      join(dir, 'existing.yaml'),
      [
        'name: an existing file behind a share=off NVDIMM',
        'files:',
        '  golden: { path: golden.img }',
        'guests:',
        '  vm:',
        '    memory: { ram: 512M, slots: 2, maxmem: 1G }',
        '    nvdimms: [{ id: nv1, backend: { file: golden, share: off } }]',
        'steps:',
        '  - boot: vm',
        '  - write: { guest: vm, device: /dev/pmem0, offset: 0, length: 1M, pattern: scribble }',
        '  - expect-data: { guest: vm, device: /dev/pmem0, offset: 0, length: 1M, pattern: scribble }',
        '  - stop: vm',
        '  - expect-file: { file: golden, unchanged: true }',
        '',
      ].join('\n'),
    );
    const result = await run(join(dir, 'existing.yaml'));
    expect(result.exitCode, `${result.stdout}${result.stderr}`).toBe(0);
    const after = {
      sha: createHash('sha256')
        .update(await readFile(data))
        .digest('hex'),
      mtime: (await stat(data)).mtimeMs,
    };
    expect(after).toEqual(before);
  });

  it('a scenario that would let a guest write to an existing file without `writable: true` is refused', async () => {
    await writeFile(join(dir, 'golden.img'), '');
    await writeFile(
      join(dir, 'writes.yaml'),
      'name: x\nfiles:\n  golden: { path: golden.img }\nguests:\n  vm:\n    memory: { ram: 512M }\n    nvdimms: [{ id: nv1, backend: { file: golden, share: on } }]\nsteps:\n  - boot: vm\n',
    );
    const result = await run(join(dir, 'writes.yaml'));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(
      /writes.yaml:7:\d+: .*share=on lets the guest write to the existing file "golden": give the file `writable: true`/,
    );
  });
});
