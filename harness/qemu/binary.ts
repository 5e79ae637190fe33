import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import { dynamicLoader, libraryPath, unpackDebs, withDebianIndex } from '../debian/apt.js';
import { debianMirror } from '../debian/mirror.js';
import { cacheDir, publish } from '../cache.js';
import { EnvironmentError } from '../errors.js';
import { buildFor, DEFAULT_BUILD } from './versions.js';
import { ARCHES, type Arch } from '../arch.js';

/** A runnable QEMU: how to start it, and what it says its version is. */
export interface QemuBinary {
  /** The program to execute: the QEMU binary, or the suite's dynamic loader for a provisioned build. */
  command: string;
  /** Arguments that go before QEMU's own (the loader's library path and the binary). */
  prefix: string[];
  env: Record<string, string>;
  /** -L directories for firmware that matches this build. */
  firmware: string[];
  /** The guest architecture it emulates. */
  arch: Arch;
  /** UEFI firmware for `-bios`, on architectures that boot through it (ARCHES). */
  bios?: string;
  /** e.g. "7.2.22" */
  version: string;
  /** Where it came from, for reports: a path, or "Debian bookworm (cache)". */
  origin: string;
  /** How to choose it again: `--qemu` takes this ("7.2", or the binary's path). */
  choice: string;
}

/**
 * The QEMU for guests of `arch` to use: `choice` as a path, or as a Debian suite or version to provision
 * ("trixie", "10.0"); without one, `qemu-system-x86_64` (or the arch's binary) on PATH, else bookworm's
 * build provisioned into the cache (fetched without root on first use).
 */
export async function findQemu(choice?: string, log: (line: string) => void = () => {}, arch: Arch = 'amd64'): Promise<QemuBinary> {
  const build = choice && !choice.includes('/') ? buildFor(choice) : undefined;
  if (build) return provisionedQemu(build.suite, log, arch);
  if (choice) return hostQemu(choice, arch, log);
  const onPath = whichSync(ARCHES[arch].qemuBinary);
  if (onPath) return hostQemu(onPath, arch, log);
  return provisionedQemu(DEFAULT_BUILD.suite, log, arch);
}

/**
 * A QEMU binary as it is: installed, or in its own build tree. A build tree keeps the firmware it built
 * and ships in `pc-bios/` beside the binary, which an uninstalled QEMU's compiled-in data path does not name.
 */
async function hostQemu(path: string, arch: Arch, log: (line: string) => void): Promise<QemuBinary> {
  if (!existsSync(path)) throw new EnvironmentError(`QEMU binary ${path} does not exist`);
  const pcBios = join(dirname(path), 'pc-bios');
  const firmware = existsSync(pcBios) ? [pcBios] : [];
  const origin = firmware.length ? `${path} (firmware from ${pcBios})` : path;
  // A QEMU not from Debian brings no UEFI firmware that the harness can name: the default build's is used.
  const bios = ARCHES[arch].bios ? (await provisionedQemu(DEFAULT_BUILD.suite, log, arch)).bios : undefined;
  const version = await readVersion(path, [], {});
  return { command: path, prefix: [], env: {}, firmware, arch, ...(bios ? { bios } : {}), version, origin, choice: path };
}

async function readVersion(command: string, prefix: string[], env: Record<string, string>): Promise<string> {
  // A binary that does not even run (a broken build, a missing library) is an environment problem.
  const { stdout, failed, exitCode, signal, stderr } = await execa(command, [...prefix, '--version'], { env, reject: false });
  if (failed)
    throw new EnvironmentError(
      `\`${command} --version\` failed (${signal ? `signal ${signal}` : `status ${exitCode}`}): ${String(stderr).trim().split('\n')[0] ?? ''}`,
    );
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(stdout);
  if (!m) throw new EnvironmentError(`cannot read a version from \`${command} --version\`: ${stdout.split('\n')[0]}`);
  return `${m[1]}.${m[2]}.${m[3] ?? 0}`;
}

function whichSync(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * A Debian suite's QEMU for `arch` guests (qemu-system-x86, or qemu-system-arm and its UEFI firmware) with
 * its whole library closure and firmware, unpacked into the cache and run through that suite's own dynamic
 * loader, so it needs nothing from the host but the kernel.
 */
export async function provisionedQemu(suite: string, log: (line: string) => void = () => {}, arch: Arch = 'amd64'): Promise<QemuBinary> {
  const root = provisionedRoot(suite, arch);
  const manifest = join(root, 'manifest.json');
  if (!existsSync(manifest)) await provision(suite, root, log, arch);
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { ...layout(root, arch), version, origin: `Debian ${suite} (${root})`, choice: buildFor(suite)?.version ?? suite };
}

/** A suite's provisioned QEMU version, if it is in the cache. */
export function provisionedVersion(suite: string, arch: Arch = 'amd64'): string | undefined {
  const manifest = join(provisionedRoot(suite, arch), 'manifest.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
}

/** Where a suite's build is, or would be, provisioned: `qemu/SUITE` for amd64 guests, `qemu/SUITE-ARCH` else. */
export function provisionedRoot(suite: string, arch: Arch = 'amd64'): string {
  return cacheDir('qemu', arch === 'amd64' ? suite : `${suite}-${arch}`);
}

function layout(root: string, arch: Arch): Omit<QemuBinary, 'version' | 'origin' | 'choice'> {
  const tree = join(root, 'tree');
  const { qemuBinary, bios } = ARCHES[arch];
  return {
    command: dynamicLoader(tree),
    prefix: ['--library-path', libraryPath(tree), join(tree, 'usr/bin', qemuBinary)],
    // Debian builds accelerators and devices as loadable modules, looked up in a compiled-in path.
    env: { QEMU_MODULE_DIR: join(tree, 'usr/lib/x86_64-linux-gnu/qemu') },
    firmware: ['usr/share/qemu', 'usr/share/seabios', 'usr/lib/ipxe/qemu'].map((d) => join(tree, d)),
    arch,
    ...(bios ? { bios: join(tree, bios) } : {}),
  };
}

async function provision(suite: string, root: string, log: (line: string) => void, arch: Arch): Promise<void> {
  await mkdir(dirname(root), { recursive: true });
  const work = await mkdtemp(`${root}.partial-`);
  try {
    const mirror = debianMirror();
    const packages = ARCHES[arch].qemuPackages;
    log(`qemu: fetching Debian ${suite}'s ${packages.join(', ')} from ${mirror}`);
    const debs = await withDebianIndex(suite, mirror, 'amd64', (apt) => apt.downloadClosure(packages, join(work, 'debs')));
    await unpackDebs(debs, join(work, 'tree'));
    const l = layout(work, arch);
    const version = await readVersion(l.command, l.prefix, l.env);
    await writeFile(join(work, 'manifest.json'), JSON.stringify({ suite, arch, version, mirror }, null, 2));
    await rm(join(work, 'debs'), { recursive: true, force: true });
    await publish(work, root);
    log(`qemu: Debian ${suite} QEMU ${version} ready in ${root}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
