import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../errors.js';

export interface KernelModule {
  name: string;
  /** Path of the .ko below lib/modules/VERSION. */
  path: string;
  data: Buffer;
}

const canonical = (name: string) => name.replace(/-/g, '_');

/** Where a kernel's modules are: its installed modules folder, and the list of drivers built into it. */
export interface ModuleTree {
  /** lib/modules/VERSION, or none when every driver needed must be built in. */
  dir?: string;
  /**
   * Its modules.builtin. Debian's sid packages ship none: a module that is not there as a file is then
   * taken to be built in, and if it is not, the guest says so on its console (NVH-FAIL) and the boot fails.
   */
  builtin?: string;
}

/**
 * The wanted modules and everything they depend on, in an order `insmod` can load them (dependencies
 * first). Dependencies are read from each module's own modinfo `depends=` field, so no depmod is needed.
 */
export async function resolveModules(tree: ModuleTree, wanted: string[]): Promise<KernelModule[]> {
  const files = new Map<string, string>();
  for (const file of tree.dir ? await walk(join(tree.dir, 'kernel')) : []) {
    const m = /([^/]+)\.ko(\.xz)?$/.exec(file);
    if (m) files.set(canonical(m[1]!), file);
  }
  const listed = tree.builtin === undefined ? undefined : await readFile(tree.builtin, 'utf8').catch(() => undefined);
  const builtin = new Set(
    (listed ?? '')
      .split('\n')
      .map((l) => /([^/]+)\.ko$/.exec(l)?.[1])
      .filter((n): n is string => !!n)
      .map(canonical),
  );
  const isBuiltin = (key: string) => (listed === undefined ? !files.has(key) : builtin.has(key));

  const ordered: KernelModule[] = [];
  const seen = new Set<string>();
  const visit = async (name: string, chain: string[]) => {
    const key = canonical(name);
    if (seen.has(key) || isBuiltin(key)) return;
    const file = files.get(key);
    if (!file)
      throw new EnvironmentError(
        `kernel module ${name} (needed by ${chain.join(' <- ') || 'the image recipe'}) is neither in ${tree.dir ?? 'a modules folder (none given)'} nor built in${listed === undefined ? '' : ` (${tree.builtin})`}`,
      );
    seen.add(key);
    const data = file.endsWith('.xz') ? await unxz(file) : await readFile(file);
    for (const dep of modinfoDepends(data)) await visit(dep, [name, ...chain]);
    ordered.push({ name: key, path: relative(tree.dir!, file).replace(/\.xz$/, ''), data });
  };
  for (const name of wanted) await visit(name, []);
  return ordered;
}

/** What `scripts/sign-file` appends to a signed module, after the signature and its 12-byte description. */
const SIGNATURE_MARKER = Buffer.from('~Module signature appended~\n');

/**
 * The module without its appended signature (unchanged if it has none). A kernel that does not enforce
 * signatures loads it all the same and taints itself once ("module verification failed"); what that saves
 * is hashing each module and checking its PKCS#7 signature, which under TCG cost about 0.11 s of every boot
 * (its 16 modules; bookworm, 12 interleaved rounds, 2026-12-06), and more when ext4 or xfs is loaded.
 */
export function withoutSignature(ko: Buffer): Buffer {
  const markerAt = ko.length - SIGNATURE_MARKER.length;
  if (markerAt < 12 || !ko.subarray(markerAt).equals(SIGNATURE_MARKER)) return ko;
  // struct module_signature: algo, hash, id_type, signer_len, key_id_len, 3 bytes of padding, __be32 sig_len.
  const signatureLength = ko.readUInt32BE(markerAt - 4);
  const end = markerAt - 12 - signatureLength;
  if (end < 0) throw new Error(`a module signature of ${signatureLength} bytes in a module of ${ko.length}`);
  return ko.subarray(0, end);
}

/** The `depends=` entry of a module's .modinfo section (NUL-separated key=value strings). */
export function modinfoDepends(ko: Buffer): string[] {
  return modinfo(ko, 'depends')
    .flatMap((v) => v.split(','))
    .filter(Boolean);
}

/** The names the kernel may ask for a module by (`request_module`): its modinfo `alias=` entries. */
export function modinfoAliases(ko: Buffer): string[] {
  return modinfo(ko, 'alias');
}

/** Every value of one key in a module's .modinfo section. */
function modinfo(ko: Buffer, key: string): string[] {
  const values: string[] = [];
  const tag = `\0${key}=`;
  for (let at = ko.indexOf(tag); at >= 0; at = ko.indexOf(tag, at + 1)) {
    const start = at + tag.length;
    values.push(ko.toString('latin1', start, ko.indexOf(0, start)));
  }
  return values;
}

async function unxz(file: string): Promise<Buffer> {
  const { stdout } = await execa('xz', ['--decompress', '--stdout', file], { encoding: 'buffer' });
  return Buffer.from(stdout);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}
