import { mkdir, writeFile, readdir, readlink, symlink, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { execa } from 'execa';
import { ARCHES, type Arch } from '../arch.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * A private apt configuration in `dir`: its own sources, lists, cache and an empty dpkg status, so that apt
 * resolves and downloads whole dependency closures without root and without touching the host's apt state.
 */
export class AptRoot {
  readonly archives: string;
  private readonly options: string[];

  constructor(
    readonly dir: string,
    readonly suite: string,
    readonly mirror: string,
    /** Debian's name for the architecture whose packages are fetched: amd64 for the host, arm64 for arm64 guests. */
    readonly arch = 'amd64',
  ) {
    this.archives = join(dir, 'var/cache/apt/archives');
    const o = (k: string, v: string) => ['-o', `${k}=${v}`];
    this.options = [
      ...o('Dir', dir),
      ...o('Dir::Etc', join(dir, 'etc/apt')),
      ...o('Dir::Etc::Parts', join(dir, 'etc/apt/apt.conf.d')),
      ...o('Dir::State', join(dir, 'var/lib/apt')),
      ...o('Dir::State::status', join(dir, 'status')),
      ...o('Dir::Cache', join(dir, 'var/cache/apt')),
      ...o('Debug::NoLocking', '1'),
      ...o('APT::Architecture', arch),
      ...o('APT::Architectures', arch),
      ...o('Acquire::Languages', 'none'),
      ...o('APT::Install-Recommends', 'false'),
      // apt's `_apt` sandbox user cannot reach a cache under a private home directory.
      ...(process.getuid?.() === 0 ? o('APT::Sandbox::User', 'root') : []),
    ];
  }

  async update(): Promise<void> {
    for (const d of [
      'etc/apt/apt.conf.d',
      'etc/apt/preferences.d',
      'etc/apt/sources.list.d',
      'var/lib/apt/lists/partial',
      'var/cache/apt/archives/partial',
    ]) {
      await mkdir(join(this.dir, d), { recursive: true });
    }
    await writeFile(join(this.dir, 'status'), '');
    await writeFile(join(this.dir, 'etc/apt/sources.list'), `deb [signed-by=${KEYRING}] ${this.mirror} ${this.suite} main\n`);
    await this.apt('apt-get', ['update']);
  }

  /** Downloads `packages` and everything they depend on (no recommends); returns the .deb paths. */
  async downloadClosure(packages: string[]): Promise<string[]> {
    await this.apt('apt-get', ['install', '--download-only', '--yes', ...packages]);
    return this.debs();
  }

  /** The packages `name` directly depends on (the first alternative of each dependency). */
  async dependencies(name: string): Promise<string[]> {
    const { stdout } = await this.apt('apt-cache', ['depends', '--no-recommends', '--no-suggests', name]);
    return [...stdout.matchAll(/^\s+\|?Depends: (\S+)$/gm)].map((m) => m[1]!).filter((d) => !d.startsWith('<'));
  }

  /** Downloads exactly these packages, without their dependencies, into `dest`. */
  async downloadOnly(packages: string[], dest: string): Promise<string[]> {
    await mkdir(dest, { recursive: true });
    await execa('apt-get', [...this.options, 'download', ...packages], { cwd: dest });
    return debsIn(dest);
  }

  private debs(): Promise<string[]> {
    return debsIn(this.archives);
  }

  private async apt(cmd: string, args: string[]) {
    try {
      return await execa(cmd, [...this.options, ...args]);
    } catch (e) {
      const err = e as { stderr?: string; shortMessage?: string };
      throw new Error(`${cmd} ${args.join(' ')} failed for Debian ${this.suite} from ${this.mirror}:\n${err.stderr || err.shortMessage}`);
    }
  }
}

async function debsIn(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.deb'))
    .sort()
    .map((f) => join(dir, f));
}

/** Unpacks .debs into `dest` with dpkg-deb (no root), then makes absolute symlinks point inside `dest`. */
export async function unpackDebs(debs: string[], dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const deb of debs) await execa('dpkg-deb', ['-x', deb, dest]);
  await relativizeSymlinks(dest, dest);
}

async function relativizeSymlinks(root: string, dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await relativizeSymlinks(root, path);
    else if (entry.isSymbolicLink()) {
      const target = await readlink(path);
      if (target.startsWith('/')) {
        await unlink(path);
        await symlink(relative(dirname(path), join(root, target)) || '.', path);
      }
    }
  }
}

/** The dynamic loader of an unpacked tree: in /lib before Debian's merged /usr (bookworm), in /usr/lib after. */
export function dynamicLoader(tree: string, arch: Arch = 'amd64'): string {
  const { loader } = ARCHES[arch];
  const found = libraryDirs(tree, arch)
    .map((d) => join(d, loader))
    .find((c) => existsSync(c));
  if (!found) throw new Error(`no ${loader} in ${tree}: was libc6 unpacked?`);
  return found;
}

/** An unpacked tree's shared library folders, as the loader searches them. */
export function libraryDirs(tree: string, arch: Arch = 'amd64'): string[] {
  return ['lib', 'usr/lib'].map((d) => join(tree, d, ARCHES[arch].triplet));
}

export function libraryPath(tree: string, arch: Arch = 'amd64'): string {
  return libraryDirs(tree, arch).join(':');
}
