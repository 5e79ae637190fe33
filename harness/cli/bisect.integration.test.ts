/**
 * `run --bisect` under `git bisect run`, on a toy repository whose "revisions" are QEMU wrappers around a
 * real provisioned QEMU: one behaves, one ignores label areas (a regression the scenario catches), one is
 * killed by a signal before any guest runs (cannot be tested: 125, which `git bisect` skips).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellCommand } from '../qemu/process.js';
import { findQemu } from '../qemu/binary.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');

const SCENARIO = `name: a 128K label area is not part of the region
files: { disk: { size: 128M } }
guests:
  vm: { memory: { ram: 512M, slots: 2, maxmem: 1G }, nvdimms: [{ id: nv1, backend: { file: disk }, label-size: 128K }] }
steps:
  - boot: vm
  - expect-ndctl: { guest: vm, regions: [{ size: 128M - 128K }] }
`;

let repo: string;
/** The real QEMU's command line (environment, loader, binary, firmware folders), shell-quoted. */
let realQemu: string;

/** The real QEMU, as a shell command line that takes QEMU's arguments after it. */
const real = () => `exec env ${realQemu}`;
const good = () => `#!/bin/sh\n${real()} "$@"\n`;
// A "regression": the label-size= of every device is dropped on the way to QEMU.
const ignoresLabels = () =>
  `#!/bin/sh\nfor a; do shift; set -- "$@" "$(printf %s "$a" | sed "s/,label-size=[^,]*//")"; done\n${real()} "$@"\n`;
// Answers --version, then dies of SIGSEGV: like a build that crashes before any guest runs.
const crashes = () => `#!/bin/sh\n[ "$1" = --version ] && ${real()} --version\nkill -SEGV $$\n`;

const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });

async function commit(script: string, message: string): Promise<void> {
  await writeFile(join(repo, 'qemu'), script);
  await chmod(join(repo, 'qemu'), 0o755);
  await git('add', '-A');
  await git('commit', '-qm', message, '--allow-empty');
}

const runBisect = (...extra: string[]) =>
  execa('node', [CLI, 'run', '--bisect', '--qemu', join(repo, 'qemu'), join(repo, 'label.yaml'), ...extra], {
    cwd: ROOT,
    reject: false,
    env: { FORCE_COLOR: '0' },
  });

describe('run --bisect', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    const qemu = await findQemu('7.2');
    realQemu = shellCommand(qemu.command, [...qemu.prefix, ...qemu.firmware.flatMap((d) => ['-L', d])], qemu.env);
    repo = await mkdtemp(join(tmpdir(), 'nvdimm-harness-bisect-'));
    await git('init', '-q');
    await writeFile(join(repo, 'label.yaml'), SCENARIO);
    await commit(good(), 'good 1');
    await commit(good(), 'good 2');
    await commit(ignoresLabels(), 'label areas ignored');
    await commit(ignoresLabels(), 'still ignored');
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('exits 125 for a QEMU killed by a signal before the guest is up, 1 without --bisect', async () => {
    await writeFile(join(repo, 'qemu'), crashes());
    try {
      const r = await runBisect();
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(125);
      expect(r.stderr).toContain('cannot test this revision');
      const plain = await execa('node', [CLI, 'run', '--qemu', join(repo, 'qemu'), join(repo, 'label.yaml')], { cwd: ROOT, reject: false });
      expect(plain.exitCode).toBe(1);
    } finally {
      await git('checkout', '--', 'qemu');
    }
  });

  it('exits 125 for a QEMU that is not there (a revision whose build made no binary)', async () => {
    const r = await execa('node', [CLI, 'run', '--bisect', '--qemu', join(repo, 'missing/qemu-system-x86_64'), join(repo, 'label.yaml')], {
      cwd: ROOT,
      reject: false,
    });
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(125);
    expect(r.stderr).toMatch(/QEMU binary .* does not exist/);
  });

  it('lets git bisect run find the first revision whose QEMU breaks the scenario', async () => {
    const [first] = (await git('rev-list', '--reverse', 'HEAD')).stdout.split('\n');
    await git('bisect', 'start', 'HEAD', first!);
    try {
      const r = await git('bisect', 'run', 'node', CLI, 'run', '--bisect', '--qemu', join(repo, 'qemu'), join(repo, 'label.yaml'));
      expect(r.stdout).toMatch(/is the first bad commit[\s\S]*label areas ignored/);
    } finally {
      await git('bisect', 'reset');
    }
  });
});
