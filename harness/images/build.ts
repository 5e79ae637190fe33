import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { AptRoot, dynamicLoader, libraryDirs, libraryPath, unpackDebs } from '../debian/apt.js';
import { debianMirror } from '../debian/mirror.js';
import { cacheDir, publish } from '../cache.js';
import { EnvironmentError } from '../errors.js';
import { cpioArchive, type CpioEntry } from './cpio.js';
import { arm64Image, vmlinuxFromBzImage } from './kernel.js';
import { neededLibraries } from './elf.js';
import { ARCHES, type Arch } from '../arch.js';
import { modinfoAliases, resolveModules, type KernelModule } from './modules.js';
import { DEFAULT_IMAGE, IMAGES_DIR, loadRecipe, type Recipe } from './recipe.js';

/**
 * Part of every image's cache key: raise it when a change to the builder (here, debian/, cpio.ts,
 * kernel.ts, modules.ts) changes what it makes, so that images built before are not served.
 */
const BUILDER_VERSION = 4;
/** The guest's own scripts, from images/: PID 1, and the modprobe the kernel runs for on-demand modules. */
const GUEST_SCRIPTS = ['init', 'modprobe'];

/** A partial build folder this old was left by a build that died. */
const STALE_BUILD_MS = 60 * 60 * 1000;

/** An image's cache folder: `NAME-KEY`, KEY being 16 hex digits. */
const IMAGE_DIR = (name: string) => new RegExp(`^${name.replace(/\./g, '\\.')}-[0-9a-f]{16}$`);

/** A built guest: an uncompressed kernel (booted through PVH on amd64, UEFI on arm64), and an uncompressed initramfs. */
export interface GuestImage {
  name: string;
  arch: Arch;
  dir: string;
  /** The kernel QEMU's -kernel takes: the ELF vmlinux (amd64), the Image (arm64). */
  vmlinux: string;
  initramfs: string;
  kernelVersion: string;
  /** Package name -> version, of everything unpacked into the image. */
  packages: Record<string, string>;
}

export interface BuildOptions {
  /** Called with progress lines; the build is silent otherwise. */
  log?: (line: string) => void;
}

/** The image from the cache, building it first if its inputs changed or it was never built. */
export async function guestImage(name = DEFAULT_IMAGE, opts: BuildOptions = {}): Promise<GuestImage & { cached: boolean }> {
  const { text, recipe } = loadRecipe(name);
  const key = createHash('sha256')
    .update(JSON.stringify([BUILDER_VERSION, text, ...(await Promise.all(GUEST_SCRIPTS.map((f) => readFile(join(IMAGES_DIR, f), 'utf8'))))]))
    .digest('hex')
    .slice(0, 16);
  const dir = cacheDir('images', `${name}-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) return { ...located(JSON.parse(await readFile(manifest, 'utf8')) as GuestImage, dir), cached: true };

  await mkdir(dirname(dir), { recursive: true });
  const work = await mkdtemp(join(dirname(dir), `.build-${name}-`));
  try {
    const image = await build(name, recipe, work, opts.log ?? (() => {}));
    const out = join(work, 'out');
    await writeFile(join(out, 'manifest.json'), JSON.stringify(image, null, 2));
    await publish(out, dir);
    // Builds of this image from older recipes or builder code are of no further use: ~75 MB each. Only
    // this image's exact key format: "debian-sid-..." is not a build of "debian-sid-x".
    for (const old of await readdir(dirname(dir))) {
      const path = join(dirname(dir), old);
      if (IMAGE_DIR(name).test(old) && path !== dir) await rm(path, { recursive: true, force: true });
      // A partial build left by one that was killed outright (SIGKILL, power loss): an hour is far longer
      // than any build takes, so no running build's folder is removed.
      if (old.startsWith(`.build-${name}-`) && path !== work && (await stat(path)).mtimeMs < Date.now() - STALE_BUILD_MS)
        await rm(path, { recursive: true, force: true });
    }
    return { ...located(image, dir), cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The manifest names the files relative to the image's folder, so the cache can move. */
function located(image: Omit<GuestImage, 'dir'>, dir: string): GuestImage {
  return { ...image, arch: image.arch ?? 'amd64', dir, vmlinux: join(dir, image.vmlinux), initramfs: join(dir, 'initramfs.cpio') };
}

/** The built images in the cache and their sizes in MB, for `doctor`. */
export function cachedImages(): { name: string; megabytes: number }[] {
  const root = cacheDir('images');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => !d.startsWith('.'))
    .map((d) => ({
      name: d,
      megabytes: Math.round(readdirSync(join(root, d)).reduce((n, f) => n + statSync(join(root, d, f)).size, 0) / 2 ** 20),
    }));
}

async function build(name: string, recipe: Recipe, work: string, log: (line: string) => void): Promise<Omit<GuestImage, 'dir'>> {
  const mirror = debianMirror();
  log(`image ${name}: fetching Debian ${recipe.suite} packages from ${mirror}`);
  const apt = new AptRoot(join(work, 'apt'), recipe.suite, mirror, recipe.arch);
  await apt.update();
  const kernelPackage = (await apt.dependencies(recipe.kernel)).find((d) => d.startsWith('linux-image-'));
  if (!kernelPackage) throw new EnvironmentError(`${recipe.kernel} in ${recipe.suite} depends on no linux-image-* package`);
  // Newer suites split the kernel (linux-binary-*) and its modules (linux-modules-*) out of linux-image-*.
  const parts = (await apt.dependencies(kernelPackage)).filter((d) => /^linux-(binary|modules)-/.test(d));
  const kernelDebs = await apt.downloadOnly([kernelPackage, ...parts], join(work, 'kernel-debs'));
  const userDebs = await apt.downloadClosure(recipe.packages);
  const kernelRoot = join(work, 'kernel');
  const root = join(work, 'root');
  await unpackDebs(kernelDebs, kernelRoot);
  await unpackDebs(userDebs, root);

  const { version, bzImage, modulesDir } = await locateKernel(kernelRoot, kernelPackage);
  log(`image ${name}: kernel ${version}, extracting the uncompressed kernel`);
  const out = join(work, 'out');
  await mkdir(out);
  const kernelFile = recipe.arch === 'arm64' ? 'Image' : 'vmlinux';
  const vmlinuz = await readFile(bzImage);
  await writeFile(join(out, kernelFile), recipe.arch === 'arm64' ? await arm64Image(vmlinuz) : await vmlinuxFromBzImage(vmlinuz));

  const modules = await resolveModules(modulesDir, recipe.modules);
  const atBoot = new Set(modules.map((m) => m.path));
  const cxlModules = (await resolveModules(modulesDir, recipe.cxlModules)).filter((m) => !atBoot.has(m.path));
  // Each on-demand module under each name the kernel may ask for it by, with what it needs that boot did not load.
  const onDemand: string[] = [];
  const onDemandModules = new Map<string, KernelModule>();
  for (const name of recipe.onDemand) {
    const chain = (await resolveModules(modulesDir, [name])).filter((m) => !atBoot.has(m.path));
    const module = chain.at(-1);
    if (!module) continue; // built in
    for (const m of chain) onDemandModules.set(m.path, m);
    for (const alias of [module.name, ...modinfoAliases(module.data)]) onDemand.push(`${alias} ${chain.map((m) => m.path).join(' ')}\n`);
  }
  const all = [...new Map([...modules, ...cxlModules, ...onDemandModules.values()].map((m) => [m.path, m])).values()];
  const entries: CpioEntry[] = [
    ...[
      'bin',
      'sbin',
      'usr',
      'usr/bin',
      'usr/sbin',
      'lib',
      'lib64',
      `lib/${ARCHES[recipe.arch].triplet}`,
      'etc',
      'etc/nvh',
      'proc',
      'sys',
      'dev',
      'root',
      'tmp',
      'run',
      'var',
      'mnt',
    ].map((path): CpioEntry => ({ kind: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 })),
    { kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    { kind: 'file', path: 'init', mode: 0o755, data: await readFile(join(IMAGES_DIR, 'init')) },
    { kind: 'file', path: 'sbin/modprobe', mode: 0o755, data: await readFile(join(IMAGES_DIR, 'modprobe')) },
    { kind: 'file', path: 'etc/passwd', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
    { kind: 'file', path: 'etc/group', mode: 0o644, data: Buffer.from('root:x:0:\n') },
    { kind: 'file', path: 'etc/nvh/modules', mode: 0o644, data: Buffer.from(modules.map((m) => `${m.path}\n`).join('')) },
    { kind: 'file', path: 'etc/nvh/cxl-modules', mode: 0o644, data: Buffer.from(cxlModules.map((m) => `${m.path}\n`).join('')) },
    { kind: 'file', path: 'etc/nvh/on-demand', mode: 0o644, data: Buffer.from(onDemand.join('')) },
    ...dirsFor(all.map((m) => `lib/modules/${m.path}`)),
    ...all.map((m): CpioEntry => ({ kind: 'file', path: `lib/modules/${m.path}`, mode: 0o644, data: m.data })),
    ...(await busybox(root, [...recipe.binaries, 'sbin/modprobe'], recipe.arch)),
    ...(await (recipe.arch === 'amd64' ? binariesWithLibraries(root, recipe.binaries) : binariesWithNeeded(root, recipe.binaries, recipe.arch))),
    ...Object.entries(recipe.links).map(([path, target]): CpioEntry => ({ kind: 'symlink', path, target })),
  ];
  await writeFile(join(out, 'initramfs.cpio'), cpioArchive(entries));
  return {
    name,
    arch: recipe.arch,
    vmlinux: kernelFile,
    initramfs: 'initramfs.cpio',
    kernelVersion: version,
    packages: await packageVersions([...kernelDebs, ...userDebs]),
  };
}

/**
 * The kernel's version, bzImage and modules in an unpacked kernel package: /boot and /lib/modules up to
 * bookworm, /usr/lib/modules after Debian merged /usr, and /usr/lib/modules/VERSION/vmlinuz in sid.
 */
async function locateKernel(root: string, pkg: string): Promise<{ version: string; bzImage: string; modulesDir: string }> {
  const base = [join(root, 'lib/modules'), join(root, 'usr/lib/modules')].find((d) => existsSync(d));
  const version = base && (await readdir(base))[0];
  if (!base || !version) throw new Error(`${pkg} has no lib/modules/VERSION folder`);
  const modulesDir = join(base, version);
  const bzImage = [join(root, 'boot', `vmlinuz-${version}`), join(modulesDir, 'vmlinuz')].find((f) => existsSync(f));
  if (!bzImage) throw new Error(`${pkg} has no /boot/vmlinuz-${version} nor ${modulesDir}/vmlinuz`);
  return { version, bzImage, modulesDir };
}

function dirsFor(paths: string[]): CpioEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = dirname(p); d !== '.' && d !== 'lib'; d = dirname(d)) dirs.add(d);
  return [...dirs].sort().map((path) => ({ kind: 'dir', path, mode: 0o755 }));
}

/**
 * busybox-static and a symlink for each of its applets, where busybox itself says they belong, except
 * those the recipe gives a real binary of the same name for. A busybox this host cannot run (arm64) has
 * its applets linked in /bin, by the names in its own applet table.
 */
async function busybox(root: string, binaries: string[], arch: Arch): Promise<CpioEntry[]> {
  // /bin before Debian's merged /usr (bullseye, bookworm), /usr/bin after (trixie on).
  const bin = [join(root, 'bin/busybox'), join(root, 'usr/bin/busybox')].find((p) => existsSync(p));
  if (!bin) throw new Error('busybox-static was unpacked but has no bin/busybox or usr/bin/busybox');
  const stdout =
    arch === 'amd64'
      ? (await execa(bin, ['--list-full'])).stdout
      : appletNames(await readFile(bin))
          .map((n) => `bin/${n}`)
          .join('\n');
  // An applet of the same name elsewhere on PATH would shadow or be shadowed by the real binary: none is linked.
  const provided = new Set(binaries.map((b) => basename(b)));
  const links = stdout.split('\n').filter((l) => l && l !== 'bin/busybox' && !l.startsWith('linuxrc') && !provided.has(basename(l)));
  return [
    { kind: 'file', path: 'bin/busybox', mode: 0o755, data: await readFile(bin) },
    ...links.filter((path) => path !== 'usr/bin/busybox').map((path): CpioEntry => ({ kind: 'symlink', path, target: '/bin/busybox' })),
  ];
}

/**
 * The binaries and the shared libraries they load, found by asking the suite's own dynamic loader
 * (`ld.so --list`) inside the unpacked tree. A library resolved outside that tree means a missing package.
 */
async function binariesWithLibraries(root: string, binaries: string[]): Promise<CpioEntry[]> {
  const ldso = dynamicLoader(root);
  const libraries = new Map<string, string>();
  const entries: CpioEntry[] = [];
  for (const binary of binaries) {
    const path = join(root, binary);
    entries.push({ kind: 'file', path: binary, mode: 0o755, data: await readFile(path) });
    const { stdout } = await execa(ldso, ['--library-path', libraryPath(root), '--list', path]);
    for (const m of stdout.matchAll(/^\s*(\S+) => (\S+)/gm)) {
      if (!m[2]!.startsWith(root))
        throw new Error(`${binary} needs ${m[1]}, which no unpacked package provides (found ${m[2]} on the host)`);
      libraries.set(m[1]!, m[2]!);
    }
  }
  // glibc before 2.34 (bullseye) loads its passwd lookup from libnss_files at run time, unseen by --list:
  // without it dropbear cannot find root and refuses every login.
  for (const dir of libraryPath(root).split(':')) {
    const nss = join(dir, 'libnss_files.so.2');
    if (existsSync(nss)) libraries.set('libnss_files.so.2', nss);
  }
  for (const [soname, file] of libraries) {
    entries.push({ kind: 'file', path: `lib/x86_64-linux-gnu/${soname}`, mode: 0o755, data: await readFile(file) });
  }
  entries.push({ kind: 'file', path: 'lib64/ld-linux-x86-64.so.2', mode: 0o755, data: await readFile(ldso) });
  return entries;
}

/**
 * The applet names of a busybox binary: its sorted table of NUL-terminated names, which begins "[", "[[".
 * On bookworm's amd64 busybox-static it gives exactly the 269 names of `busybox --list-full`.
 */
export function appletNames(busybox: Buffer): string[] {
  let at = busybox.indexOf('[\0[[\0', 0, 'latin1');
  if (at < 0) throw new Error('no applet table ("[", "[[", ...) in the busybox binary');
  const names: string[] = [];
  for (;;) {
    const end = busybox.indexOf(0, at);
    const name = busybox.toString('latin1', at, end);
    if (!/^[\w.[-]+$/.test(name)) return names;
    names.push(name);
    at = end + 1;
  }
}

/**
 * The binaries and the shared libraries they load, for an arch whose loader this host cannot run: each
 * ELF file's DT_NEEDED names, followed through the libraries, resolved in the tree's lib/TRIPLET folders;
 * the loader goes where the binaries' ELF interpreter names it.
 */
async function binariesWithNeeded(root: string, binaries: string[], arch: Arch): Promise<CpioEntry[]> {
  const { triplet, interpreter } = ARCHES[arch];
  const libraries = new Map<string, string>();
  const entries: CpioEntry[] = [];
  const follow = async (data: Buffer, what: string) => {
    for (const soname of neededLibraries(data)) {
      if (libraries.has(soname)) continue;
      const file = libraryDirs(root, arch)
        .map((d) => join(d, soname))
        .find((f) => existsSync(f));
      if (!file) throw new Error(`${what} needs ${soname}, which no unpacked package provides`);
      libraries.set(soname, file);
      await follow(await readFile(file), soname);
    }
  };
  for (const binary of binaries) {
    const data = await readFile(join(root, binary));
    entries.push({ kind: 'file', path: binary, mode: 0o755, data });
    await follow(data, binary);
  }
  const loader = dynamicLoader(root, arch);
  for (const [soname, file] of libraries) {
    if (file === loader) continue;
    entries.push({ kind: 'file', path: `lib/${triplet}/${soname}`, mode: 0o755, data: await readFile(file) });
  }
  entries.push({ kind: 'file', path: interpreter, mode: 0o755, data: await readFile(loader) });
  return entries;
}

async function packageVersions(debs: string[]): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const deb of debs) {
    const { stdout } = await execa('dpkg-deb', ['--show', '--showformat=${Package} ${Version}', deb]);
    const [pkg, version] = stdout.split(' ');
    versions[pkg!] = version!;
  }
  return versions;
}
