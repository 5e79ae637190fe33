import { mkdir, mkdtemp, readdir, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { execa } from 'execa';
import { ARCHES, type Arch } from '../arch.js';
import { cacheDir } from '../cache.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * How long a suite's package lists, once fetched, serve every fetch of that suite (QEMU, an image's userland,
 * its kernel, in this run or the next): each `apt-get update` took 2-3 s, and one `npm test` on an empty
 * cache made 24 of them for 5 suites. Debian replaces packages a few times a day, and a list that names
 * one no longer on the mirror is fetched again (see `withDebianIndex`).
 */
const INDEX_FRESH_MS = 30 * 60 * 1000;
/** Far longer than any fetch takes, so no fetch's index is removed under it. */
const INDEX_KEPT_MS = INDEX_FRESH_MS + 60 * 60 * 1000;

/**
 * A private apt configuration in `dir`: its own sources, lists, cache and an empty dpkg status, so that apt
 * resolves and downloads whole dependency closures without root and without touching the host's apt state.
 */
export class AptRoot {
  private readonly options: string[];

  constructor(
    readonly dir: string,
    readonly suite: string,
    readonly mirror: string,
    /** Debian's name for the architecture whose packages are fetched: amd64 for the host, arm64 for arm64 guests. */
    readonly arch = 'amd64',
  ) {
    const o = (k: string, v: string) => ['-o', `${k}=${v}`];
    this.options = [
      ...o('Dir', dir),
      ...o('Dir::Etc', join(dir, 'etc/apt')),
      ...o('Dir::Etc::Parts', join(dir, 'etc/apt/apt.conf.d')),
      ...o('Dir::State', join(dir, 'var/lib/apt')),
      ...o('Dir::State::status', join(dir, 'status')),
      ...o('Dir::Cache', join(dir, 'var/cache/apt')),
      // apt's parsed lists, which Docker-style hosts turn off (docker-clean): without them every apt-get and
      // apt-cache parsed the suite's lists again, about 1 s each for sid.
      ...o('Dir::Cache::pkgcache', 'pkgcache.bin'),
      ...o('Dir::Cache::srcpkgcache', ''),
      // A list that could not be fetched fails `apt-get update` (apt 2.1.16 on; older apt ignores this), instead of
      // leaving an index without it, which the cache would then hand to every fetch of the suite for half an hour.
      ...o('APT::Update::Error-Mode', 'any'),
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
      'var/cache/apt',
    ]) {
      await mkdir(join(this.dir, d), { recursive: true });
    }
    await writeFile(join(this.dir, 'status'), '');
    await writeFile(join(this.dir, 'etc/apt/sources.list'), `deb [signed-by=${KEYRING}] ${this.mirror} ${this.suite} main\n`);
    await this.apt('apt-get', ['update']);
  }

  /** Downloads `packages` and everything they depend on (no recommends) into `dest`; returns the .deb paths. */
  async downloadClosure(packages: string[], dest: string): Promise<string[]> {
    await mkdir(join(dest, 'partial'), { recursive: true });
    await this.apt('apt-get', ['-o', `Dir::Cache::archives=${dest}`, 'install', '--download-only', '--yes', ...packages]);
    await rm(join(dest, 'partial'), { recursive: true, force: true });
    return debsIn(dest);
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

  private async apt(cmd: string, args: string[]) {
    try {
      return await execa(cmd, [...this.options, ...args]);
    } catch (e) {
      const err = e as { stderr?: string; shortMessage?: string };
      throw new Error(`${cmd} ${args.join(' ')} failed for Debian ${this.suite} from ${this.mirror}:\n${err.stderr || err.shortMessage}`);
    }
  }
}

/** This process's indexes, by suite, architecture and mirror: fetches at once share one `apt-get update`. */
const indexes = new Map<string, Promise<{ apt: AptRoot; fresh: boolean }>>();

/**
 * Runs `use` with an apt root whose lists of `suite` are at most INDEX_FRESH_MS old, shared through the
 * cache (`apt/SUITE-ARCH-TIME-*`, read-only once its manifest is written; each fetch downloads into a folder of
 * its own). If `use` fails on lists taken from the cache (the mirror may have replaced a package they name),
 * the lists are fetched again and `use` runs once more.
 */
export async function withDebianIndex<T>(suite: string, mirror: string, arch: string, use: (apt: AptRoot) => Promise<T>): Promise<T> {
  const id = `${suite}-${arch} ${mirror}`;
  // A fetch that failed (the network, the mirror) is not remembered: the next fetch in this process tries again.
  const remember = (refetch: boolean) => {
    const index = debianIndex(suite, mirror, arch, refetch);
    indexes.set(id, index);
    index.catch(() => indexes.get(id) === index && indexes.delete(id));
    return index;
  };
  const { apt, fresh } = await (indexes.get(id) ?? remember(false));
  try {
    return await use(apt);
  } catch (e) {
    if (fresh) throw e;
    return use((await remember(true)).apt);
  }
}

/**
 * The newest index of the suite in the cache that is fresh enough, else a new one. An index is fetched in place
 * (apt's parsed lists name the files they were parsed from, so a moved root would be parsed again by its first
 * reader) and counts once its manifest.json is written; any older than INDEX_KEPT_MS, finished or not, is removed.
 */
async function debianIndex(suite: string, mirror: string, arch: string, refetch: boolean) {
  const root = cacheDir('apt');
  await mkdir(root, { recursive: true });
  const now = Date.now();
  const named = new RegExp(`^${suite}-${arch}-(\\d+)-`);
  const entries = (await readdir(root))
    .map((name) => ({ dir: join(root, name), time: Number(named.exec(name)?.[1]) }))
    .filter((e) => e.time);
  for (const old of entries.filter((e) => e.time < now - INDEX_KEPT_MS)) await rm(old.dir, { recursive: true, force: true });
  const manifest = (dir: string) => join(dir, 'manifest.json');
  const usable = entries
    .filter((e) => !refetch && e.time >= now - INDEX_FRESH_MS && existsSync(manifest(e.dir)))
    .sort((a, b) => b.time - a.time)
    .find((e) => (JSON.parse(readFileSync(manifest(e.dir), 'utf8')) as { mirror: string }).mirror === mirror);
  if (usable) return { apt: new AptRoot(usable.dir, suite, mirror, arch), fresh: false };
  // A name of its own, even for two processes starting in the same millisecond.
  const dir = await mkdtemp(join(root, `${suite}-${arch}-${now}-`));
  const apt = new AptRoot(dir, suite, mirror, arch);
  try {
    await apt.update();
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  await writeFile(manifest(dir), JSON.stringify({ suite, arch, mirror }, null, 2));
  return { apt, fresh: true };
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
