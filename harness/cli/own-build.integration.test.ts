/**
 * A kernel and a QEMU you built, as the README's "Test your own kernel / QEMU" section runs them: Debian's
 * kernel laid out as a kernel build leaves it (a vmlinux, and its modules where `make modules_install
 * INSTALL_MOD_PATH=DIR` puts them), and a provisioned Debian QEMU laid out as a build tree (the binary, and
 * its firmware in pc-bios/ beside it).
 */
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpackDebs, withDebianIndex } from '../debian/apt.js';
import { debianMirror } from '../debian/mirror.js';
import { vmlinuxFromBzImage } from '../images/kernel.js';
import { findQemu } from '../qemu/binary.js';
import { shellCommand } from '../qemu/process.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/nvdimm-harness.js');
/** One guest, one NVDIMM: the least that shows the kernel's NVDIMM drivers at work. */
const SCENARIO = `name: a file-backed NVDIMM is a pmem region of its size
files: { disk: { size: 128M } }
guests:
  vm: { memory: { ram: 512M, slots: 2, maxmem: 1G }, nvdimms: [{ id: nv1, backend: { file: disk } }] }
steps:
  - boot: vm
  - expect-ndctl: { guest: vm, regions: [{ size: 128M }] }
`;
/** The scenario, written into each describe's own temporary folder. */
let scenarioFile: string;

let tmp: string;
/** The "kernel build tree": vmlinux only. */
let vmlinux: string;
/** INSTALL_MOD_PATH of the "modules_install": DIR/lib/modules/RELEASE. */
let modules: string;
let release: string;

const cli = (args: string[], cwd = ROOT) => execa('node', [CLI, ...args], { cwd, reject: false, env: { FORCE_COLOR: '0' } });
const output = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;

describe('a kernel you built', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'nvdimm-harness-own-'));
    scenarioFile = join(tmp, 'pmem.yaml');
    await writeFile(scenarioFile, SCENARIO);
    const debs = await withDebianIndex('bookworm', debianMirror(), 'amd64', async (apt) => {
      const image = (await apt.dependencies('linux-image-amd64')).find((d) => d.startsWith('linux-image-'))!;
      return apt.downloadOnly([image], join(tmp, 'debs'));
    });
    const deb = join(tmp, 'deb');
    await unpackDebs(debs, deb);
    release = (await readdir(join(deb, 'lib/modules')))[0]!;
    await mkdir(join(tmp, 'linux'));
    vmlinux = join(tmp, 'linux/vmlinux');
    await writeFile(vmlinux, await vmlinuxFromBzImage(await readFile(join(deb, 'boot', `vmlinuz-${release}`))));
    modules = join(tmp, 'mods');
    await mkdir(join(modules, 'lib/modules'), { recursive: true });
    await rename(join(deb, 'lib/modules', release), join(modules, 'lib/modules', release));
    await rm(deb, { recursive: true, force: true });
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('boots it with the image userland, and a scenario passes on it', async () => {
    const r = await cli(['run', '--kernel', vmlinux, '--modules', modules, scenarioFile]);
    expect(r.exitCode, output(r)).toBe(0);
    expect(output(r)).toContain(`image debian-bookworm+kernel (kernel ${release})`);
  });

  it('serves the image from the cache until the kernel file changes', async () => {
    const build = () => cli(['image', 'build', '--kernel', vmlinux, '--modules', modules]);
    expect((await build()).stdout).toMatch(/cached in/);
    // An ELF file with bytes after its last section is the same kernel to QEMU, and another file to the cache.
    await writeFile(vmlinux, Buffer.concat([await readFile(vmlinux), Buffer.from('rebuilt')]));
    const rebuilt = await build();
    expect(rebuilt.stdout, output(rebuilt)).toMatch(/debian-bookworm\+kernel: kernel .* built in/);
  });

  it('names a needed driver that is neither built in nor in the modules folder, before anything boots', async () => {
    const partial = join(tmp, 'mods-without-nd-pmem');
    await cp(modules, partial, { recursive: true });
    await rm(join(partial, 'lib/modules', release, 'kernel/drivers/nvdimm/nd_pmem.ko'));
    const r = await cli(['run', '--kernel', vmlinux, '--modules', partial, scenarioFile]);
    expect(r.exitCode, output(r)).toBe(2);
    expect(r.stderr).toMatch(/kernel module nd_pmem \(needed by the image recipe\) is neither in .*mods-without-nd-pmem.* nor built in/);
    const bisect = await cli(['run', '--bisect', '--kernel', vmlinux, '--modules', partial, scenarioFile]);
    expect(bisect.exitCode, output(bisect)).toBe(125);
  });

  it('says it cannot tell which drivers are built in without modules or a build tree', async () => {
    const r = await cli(['run', '--kernel', vmlinux, scenarioFile]);
    expect(r.exitCode, output(r)).toBe(2);
    expect(r.stderr).toContain(`cannot tell which drivers ${vmlinux} has built in: no modules.builtin in its build tree`);
  });

  it('takes the kernel from a recipe in the project, chosen with --image', async () => {
    const project = join(tmp, 'project');
    await mkdir(join(project, 'images'), { recursive: true });
    const bookworm = JSON.parse(await readFile(join(ROOT, 'images/debian-bookworm.json'), 'utf8'));
    await writeFile(
      join(project, 'images/my-kernel.json'),
      JSON.stringify({
        ...bookworm,
        $comment: 'bookworm userland, my kernel',
        kernel: { path: '../../linux/vmlinux', modules: '../../mods' },
      }),
    );
    const r = await cli(['run', '--image', 'my-kernel', scenarioFile], project);
    expect(r.exitCode, output(r)).toBe(0);
    expect(output(r)).toContain(`image my-kernel (kernel ${release})`);
    // Its userland is debian-bookworm's, already built: nothing is fetched for it.
    expect(output(r)).not.toContain('fetching Debian');
  });
});

describe('a QEMU build tree', { timeout: 300_000 }, () => {
  let build: string;
  beforeAll(async () => {
    const qemu = await findQemu('7.2');
    build = await mkdtemp(join(tmpdir(), 'nvdimm-harness-qemu-build-'));
    scenarioFile = join(build, 'pmem.yaml');
    await writeFile(scenarioFile, SCENARIO);
    // The binary runs through its suite's loader, as a build tree's binary runs against the host's libraries;
    // its firmware is only in pc-bios/, as in a build tree: this host has no /usr/share/qemu.
    const binary = join(build, 'qemu-system-x86_64');
    await writeFile(binary, `#!/bin/sh\nexec env ${shellCommand(qemu.command, qemu.prefix, qemu.env)} "$@"\n`);
    await chmod(binary, 0o755);
    await mkdir(join(build, 'pc-bios'));
    for (const dir of qemu.firmware)
      for (const f of await readdir(dir)) await symlink(join(dir, f), join(build, 'pc-bios', f)).catch(() => {});
  });
  afterAll(async () => {
    await rm(build, { recursive: true, force: true });
  });

  it('runs a scenario with the firmware from pc-bios/ and the version from the binary', async () => {
    const r = await cli(['run', '--qemu', join(build, 'qemu-system-x86_64'), scenarioFile]);
    expect(r.exitCode, output(r)).toBe(0);
    expect(output(r)).toContain(`QEMU 7.2.`);
    expect(output(r)).toContain(`(firmware from ${join(build, 'pc-bios')})`);
  });

  it("fails with QEMU's words when the build tree has no firmware", async () => {
    await rename(join(build, 'pc-bios'), join(build, 'no-pc-bios'));
    try {
      const r = await cli(['run', '--qemu', join(build, 'qemu-system-x86_64'), scenarioFile]);
      expect(r.exitCode, output(r)).toBe(1);
      expect(output(r)).toMatch(/could not load PC BIOS|Could not open option rom/i);
    } finally {
      await rename(join(build, 'no-pc-bios'), join(build, 'pc-bios'));
    }
  });
});
