import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { dynamicLoader, libraryDirs, libraryPath, unpackDebs, withDebianIndex } from '../debian/apt.js';
import { debianMirror } from '../debian/mirror.js';
import { bothBuilt, cacheDir, publish } from '../cache.js';
import { EnvironmentError } from '../errors.js';
import { cpioArchive, type CpioEntry } from './cpio.js';
import { arm64Image, vmlinuxFromBzImage } from './kernel.js';
import { neededLibraries } from './elf.js';
import { ARCHES, type Arch } from '../arch.js';
import { makeHostKey } from './host-key.js';
import { modinfoAliases, resolveModules, withoutSignature, type KernelModule, type ModuleTree } from './modules.js';
import { ownKernel, type OwnKernel } from './own-kernel.js';
import { DEFAULT_IMAGE, IMAGES_DIR, loadRecipe, type Recipe } from './recipe.js';

/**
 * Part of every image's cache key: raise it when a change to the builder (here, debian/, cpio.ts,
 * kernel.ts, modules.ts) changes what it makes, so that images built before are not served.
 */
const BUILDER_VERSION = 8;
/** The guest's own scripts, from images/: PID 1, and the modprobe the kernel runs for on-demand modules. */
const GUEST_SCRIPTS = ['init', 'modprobe'];

/** A partial build folder this old was left by a build that died. */
const STALE_BUILD_MS = 60 * 60 * 1000;

/**
 * A built guest: the kernel QEMU boots (an uncompressed vmlinux booted through PVH, or a bzImage as given;
 * on arm64 the plain Image, booted through UEFI) and an uncompressed initramfs.
 */
export interface GuestImage {
  name: string;
  arch: Arch;
  dir: string;
  kernel: string;
  initramfs: string;
  kernelVersion: string;
  /** Package name -> version, of everything unpacked into the image. */
  packages: Record<string, string>;
  /** The kernel file it was built from, when it is not the recipe's Debian kernel package. */
  ownKernel?: string;
}

export interface BuildOptions {
  /** Called with progress lines; the build is silent otherwise. */
  log?: (line: string) => void;
  /** A kernel to boot instead of the recipe's, with the recipe's userland. */
  kernel?: OwnKernel;
}

/** What an image's two layers are made of: its kernel and modules, and the userland of its Debian suite. */
export interface KernelParts {
  boot: { file: 'vmlinux' | 'bzImage' | 'Image'; data: Buffer };
  version: string;
  modules: ModuleTree;
  /**
   * Its modules go into the image without their signatures (see withoutSignature): Debian's kernels, which
   * do not enforce them. A kernel you built keeps its modules as built, since it may enforce them.
   */
  stripSignatures: boolean;
  packages: Record<string, string>;
}

/**
 * The image from the cache, building it first if its inputs changed or it was never built. An image is
 * its recipe's userland (cached on its own, so a rebuilt kernel needs no download) plus a kernel: the
 * recipe's Debian package, or one you built (`opts.kernel`, or the recipe's `kernel: { path, modules }`).
 */
export async function guestImage(name = DEFAULT_IMAGE, opts: BuildOptions = {}): Promise<GuestImage & { cached: boolean }> {
  const { text, recipe, path } = loadRecipe(name);
  const log = opts.log ?? (() => {});
  const scripts = await Promise.all(GUEST_SCRIPTS.map((f) => readFile(join(IMAGES_DIR, f), 'utf8')));
  const recipeKernel = recipe.kernel;
  const own =
    opts.kernel ??
    (typeof recipeKernel === 'object'
      ? { path: resolve(dirname(path), recipeKernel.path), modules: recipeKernel.modules && resolve(dirname(path), recipeKernel.modules) }
      : undefined);
  const userlandKey = hash([BUILDER_VERSION, recipe.suite, recipe.arch, recipe.packages, recipe.binaries, recipe.links, scripts]);
  const land = () => userland(name, recipe, userlandKey, log);
  if (!own) {
    const key = hash([BUILDER_VERSION, text, scripts]);
    // Both halves at once: each waits on the mirror part of the time.
    return cachedImage(name, key, async (out) =>
      assemble(out, name, recipe, ...(await bothBuilt(land(), debianKernel(name, recipe, out, log)))),
    );
  }
  const kernel = await ownKernel(own);
  const imageName = opts.kernel ? `${name}+kernel` : name;
  const key = hash([BUILDER_VERSION, userlandKey, recipe.modules, recipe.onDemand, recipe.cxlModules, kernel.fingerprint]);
  return cachedImage(imageName, key, async (out) => {
    log(`image ${imageName}: kernel ${kernel.version} from ${own.path}`);
    return { ...(await assemble(out, imageName, recipe, await land(), await kernel.parts())), ownKernel: own.path };
  });
}

const hash = (inputs: unknown[]) => createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);

/** The manifest names the files relative to the image's folder, so the cache can move. */
function located(image: Omit<GuestImage, 'dir'>, dir: string): GuestImage {
  return { ...image, dir, kernel: join(dir, image.kernel), initramfs: join(dir, image.initramfs) };
}

async function cachedImage(
  name: string,
  key: string,
  make: (out: string) => Promise<Omit<GuestImage, 'dir'>>,
): Promise<GuestImage & { cached: boolean }> {
  const { value, dir, cached } = await cachedBuild(cacheDir('images'), name, key, make);
  return { ...located(value, dir), cached };
}

/**
 * A build in the cache under `root/NAME-KEY`, made in a work folder and published in one rename once its
 * manifest is written. Builds of the same name with another key are of no further use (~75 MB each) and
 * are removed, as are partial builds left by one that was killed outright. `anyName`: a build of the same key
 * under another name will do.
 */
async function cachedBuild<T>(root: string, name: string, key: string, make: (out: string) => Promise<T>, { anyName = false } = {}) {
  const built = (d: string) => existsSync(join(root, d, 'manifest.json'));
  const twin = anyName && existsSync(root) ? readdirSync(root).find((d) => d.endsWith(`-${key}`) && built(d)) : undefined;
  const dir = join(root, twin ?? `${name}-${key}`);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest)) return { value: JSON.parse(await readFile(manifest, 'utf8')) as T, dir, cached: true };
  await mkdir(root, { recursive: true });
  const work = await mkdtemp(join(root, `.build-${name}-`));
  try {
    const out = join(work, 'out');
    await mkdir(out);
    const value = await make(out);
    await writeFile(join(out, 'manifest.json'), JSON.stringify(value, null, 2));
    await publish(out, dir);
    // Only this name's exact key format: "debian-sid-..." is not a build of "debian-sid-x".
    const same = new RegExp(`^${name.replace(/[.+]/g, '\\$&')}-[0-9a-f]{16}$`);
    for (const old of await readdir(root)) {
      const path = join(root, old);
      if (same.test(old) && path !== dir) await rm(path, { recursive: true, force: true });
      // An hour is far longer than any build takes, so no running build's folder is removed.
      if (old.startsWith(`.build-${name}-`) && path !== work && (await stat(path)).mtimeMs < Date.now() - STALE_BUILD_MS)
        await rm(path, { recursive: true, force: true });
    }
    return { value, dir, cached: false };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
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

/**
 * The userland layer: a cpio archive of busybox, the recipe's binaries with their libraries, and init. Its key
 * is all that goes into it, so a recipe with the same suite, packages and binaries under another name (one for
 * a kernel of one's own often is debian-bookworm's with a kernel path) uses that recipe's build instead of
 * fetching and building the same again (15-25 s).
 */
async function userland(name: string, recipe: Recipe, key: string, log: (line: string) => void) {
  const { value, dir } = await cachedBuild(
    cacheDir('images', '.userland'),
    name,
    key,
    async (out) => {
      const mirror = debianMirror();
      log(`image ${name}: fetching Debian ${recipe.suite} packages from ${mirror}`);
      const debs = await withDebianIndex(recipe.suite, mirror, recipe.arch, (apt) =>
        apt.downloadClosure(recipe.packages, join(out, '../debs')),
      );
      const root = join(out, '../root');
      await unpackDebs(debs, root);
      await writeFile(join(out, 'userland.cpio'), cpioArchive(await userlandEntries(root, recipe)));
      return { packages: packageVersions(debs) };
    },
    { anyName: true },
  );
  return { cpio: join(dir, 'userland.cpio'), packages: value.packages };
}

/** The recipe's Debian kernel package (and its modules package, in newer suites), unpacked. */
async function debianKernel(name: string, recipe: Recipe, out: string, log: (line: string) => void): Promise<KernelParts> {
  const { kernelPackage, debs } = await withDebianIndex(recipe.suite, debianMirror(), recipe.arch, async (apt) => {
    const kernelPackage = (await apt.dependencies(recipe.kernel as string)).find((d) => d.startsWith('linux-image-'));
    if (!kernelPackage) throw new EnvironmentError(`${String(recipe.kernel)} in ${recipe.suite} depends on no linux-image-* package`);
    // Newer suites split the kernel (linux-binary-*) and its modules (linux-modules-*) out of linux-image-*.
    const parts = (await apt.dependencies(kernelPackage)).filter((d) => /^linux-(binary|modules)-/.test(d));
    return { kernelPackage, debs: await apt.downloadOnly([kernelPackage, ...parts], join(out, '../kernel-debs')) };
  });
  const root = join(out, '../kernel');
  await unpackDebs(debs, root);
  const { version, bzImage, modulesDir } = await locateKernel(root, kernelPackage);
  log(`image ${name}: kernel ${version}, extracting the uncompressed kernel`);
  const vmlinuz = await readFile(bzImage);
  return {
    boot:
      recipe.arch === 'arm64'
        ? { file: 'Image', data: await arm64Image(vmlinuz) }
        : { file: 'vmlinux', data: await vmlinuxFromBzImage(vmlinuz) },
    version,
    modules: { dir: modulesDir, builtin: join(modulesDir, 'modules.builtin') },
    stripSignatures: true,
    packages: packageVersions(debs),
  };
}

/** Writes the kernel, and the initramfs: the userland layer followed by the kernel's modules. */
async function assemble(
  out: string,
  name: string,
  recipe: Recipe,
  land: { cpio: string; packages: Record<string, string> },
  kernel: KernelParts,
): Promise<Omit<GuestImage, 'dir'>> {
  await writeFile(join(out, kernel.boot.file), kernel.boot.data);
  // The kernel unpacks concatenated cpio archives one after the other into the same root.
  const modules = cpioArchive(await moduleEntries(kernel, recipe));
  await writeFile(join(out, 'initramfs.cpio'), Buffer.concat([await readFile(land.cpio), modules]));
  return {
    name,
    arch: recipe.arch,
    kernel: kernel.boot.file,
    initramfs: 'initramfs.cpio',
    kernelVersion: kernel.version,
    packages: { ...land.packages, ...kernel.packages },
  };
}

/** The modules init loads at boot, those it loads when QEMU made a CXL root, and those the kernel asks for. */
async function moduleEntries({ modules: tree, stripSignatures }: KernelParts, recipe: Recipe): Promise<CpioEntry[]> {
  const modules = await resolveModules(tree, recipe.modules);
  const atBoot = new Set(modules.map((m) => m.path));
  const cxlModules = (await resolveModules(tree, recipe.cxlModules)).filter((m) => !atBoot.has(m.path));
  // Each on-demand module under each name the kernel may ask for it by, with what it needs that boot did not load.
  const onDemand: string[] = [];
  const onDemandModules = new Map<string, KernelModule>();
  for (const name of recipe.onDemand) {
    const chain = (await resolveModules(tree, [name])).filter((m) => !atBoot.has(m.path));
    const module = chain.at(-1);
    if (!module) continue; // built in
    for (const m of chain) onDemandModules.set(m.path, m);
    for (const alias of [module.name, ...modinfoAliases(module.data)]) onDemand.push(`${alias} ${chain.map((m) => m.path).join(' ')}\n`);
  }
  const all = [...new Map([...modules, ...cxlModules, ...onDemandModules.values()].map((m) => [m.path, m])).values()];
  return [
    { kind: 'file', path: 'etc/nvh/modules', mode: 0o644, data: Buffer.from(modules.map((m) => `${m.path}\n`).join('')) },
    { kind: 'file', path: 'etc/nvh/cxl-modules', mode: 0o644, data: Buffer.from(cxlModules.map((m) => `${m.path}\n`).join('')) },
    { kind: 'file', path: 'etc/nvh/on-demand', mode: 0o644, data: Buffer.from(onDemand.join('')) },
    ...dirsFor(all.map((m) => `lib/modules/${m.path}`)),
    ...all.map(
      (m): CpioEntry => ({
        kind: 'file',
        path: `lib/modules/${m.path}`,
        mode: 0o644,
        data: stripSignatures ? withoutSignature(m.data) : m.data,
      }),
    ),
  ];
}

async function userlandEntries(root: string, recipe: Recipe): Promise<CpioEntry[]> {
  const hostKey = makeHostKey();
  return [
    ...[
      'bin',
      'sbin',
      'usr',
      'usr/bin',
      'usr/sbin',
      'lib',
      'lib/modules',
      'lib64',
      `lib/${ARCHES[recipe.arch].triplet}`,
      'etc',
      'etc/nvh',
      'proc',
      'sys',
      'dev',
      'tmp',
      'run',
      'var',
      'mnt',
    ].map((path): CpioEntry => ({ kind: 'dir', path, mode: path === 'tmp' ? 0o1777 : 0o755 })),
    // init writes the authorized key into root's .ssh; dropbear wants neither folder open to others.
    { kind: 'dir', path: 'root', mode: 0o700 },
    { kind: 'dir', path: 'root/.ssh', mode: 0o700 },
    { kind: 'dir', path: 'etc/dropbear', mode: 0o700 },
    { kind: 'file', path: 'etc/dropbear/dropbear_ed25519_host_key', mode: 0o600, data: hostKey.dropbearFile },
    { kind: 'file', path: 'etc/nvh/host-key.pub', mode: 0o644, data: Buffer.from(`${hostKey.publicLine}\n`) },
    { kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    { kind: 'file', path: 'init', mode: 0o755, data: await readFile(join(IMAGES_DIR, 'init')) },
    { kind: 'file', path: 'sbin/modprobe', mode: 0o755, data: await readFile(join(IMAGES_DIR, 'modprobe')) },
    { kind: 'file', path: 'etc/passwd', mode: 0o644, data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') },
    { kind: 'file', path: 'etc/group', mode: 0o644, data: Buffer.from('root:x:0:\n') },
    ...(await busybox(root, [...recipe.binaries, 'sbin/modprobe'], recipe.arch)),
    ...(await (recipe.arch === 'amd64'
      ? binariesWithLibraries(root, recipe.binaries)
      : binariesWithNeeded(root, recipe.binaries, recipe.arch))),
    ...Object.entries(recipe.links).map(([path, target]): CpioEntry => ({ kind: 'symlink', path, target })),
  ];
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
  for (const p of paths) for (let d = dirname(p); d !== '.' && d !== 'lib' && d !== 'lib/modules'; d = dirname(d)) dirs.add(d);
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

/**
 * Package name -> version, from the names apt gives the files it downloads: NAME_VERSION_ARCH.deb, the
 * version's epoch colon written %3a. (Asking dpkg-deb, one process per package, took 2.5 s an image.)
 */
export function packageVersions(debs: string[]): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const deb of debs) {
    const m = /^([^_]+)_([^_]+)_[^_]+\.deb$/.exec(basename(deb));
    if (!m) throw new Error(`${deb} is not named NAME_VERSION_ARCH.deb, as apt names what it downloads`);
    versions[m[1]!] = decodeURIComponent(m[2]!);
  }
  return versions;
}
