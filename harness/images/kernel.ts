import { execa } from 'execa';
import { gunzipSync } from 'node:zlib';

/**
 * Takes the uncompressed ELF vmlinux out of an x86 bzImage. QEMU boots such an ELF through its PVH entry
 * point with no decompression step, which is most of a TCG boot's kernel start-up time.
 */
export async function vmlinuxFromBzImage(bzImage: Buffer): Promise<Buffer> {
  if (!isBzImage(bzImage)) throw new Error('not an x86 bzImage (no HdrS setup header)');
  const setupSects = bzImage[0x1f1] || 4;
  const protectedMode = (setupSects + 1) * 512;
  const offset = protectedMode + bzImage.readUInt32LE(0x248);
  const length = bzImage.readUInt32LE(0x24c);
  const payload = bzImage.subarray(offset, offset + length);
  const elf = await decompress(payload);
  if (!elf.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) throw new Error('decompressed kernel is not an ELF file');
  return elf;
}

const XZ = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP = Buffer.from([0x1f, 0x8b]);
/** LZ4's legacy frame, which the kernel's lz4 compression writes: this magic, then blocks of at most 8 MiB. */
const LZ4_LEGACY = Buffer.from([0x02, 0x21, 0x4c, 0x18]);
const LZ4_LEGACY_BLOCK = 8 << 20;

/**
 * Debian's kernels are xz-compressed up to bookworm and zstd-compressed from trixie on, its cloud flavour
 * lz4-compressed; a kernel built with the upstream defaults is gzip-compressed. lzo and bzip2 are refused.
 */
async function decompress(payload: Buffer): Promise<Buffer> {
  // The kernel build appends the uncompressed size (4 bytes) to the compressed stream.
  const stream = payload.subarray(0, payload.length - 4);
  if (payload.subarray(0, 4).equals(ZSTD)) return unpackWith('zstd', [], stream);
  if (payload.subarray(0, 2).equals(GZIP)) return gunzipSync(stream);
  if (payload.subarray(0, 4).equals(LZ4_LEGACY)) return lz4Legacy(stream);
  // --single-stream stops at the end of the xz stream, before the appended size.
  if (payload.subarray(0, 6).equals(XZ)) return unpackWith('xz', ['--single-stream'], payload);
  throw new Error(`kernel payload is neither xz-, zstd-, gzip- nor lz4-compressed (magic ${payload.subarray(0, 6).toString('hex')})`);
}

/**
 * `data` decompressed by Debian's xz or zstd command. Node 20's zlib has neither; a JavaScript zstd decoder
 * (fzstd) took 7.7 s for trixie's 12 MB kernel payload where the command takes 0.6 s.
 */
async function unpackWith(command: 'xz' | 'zstd', args: string[], data: Buffer): Promise<Buffer> {
  const { stdout } = await execa(command, ['--decompress', '--stdout', ...args], { input: data, encoding: 'buffer' });
  return Buffer.from(stdout);
}

/** An LZ4 legacy frame: Node has no LZ4, and its block format is a few lines (lz4's doc/lz4_Block_format.md). */
export function lz4Legacy(frame: Buffer): Buffer {
  const blocks: Buffer[] = [];
  for (let at = 4; at + 4 <= frame.length; ) {
    const size = frame.readUInt32LE(at);
    at += 4;
    blocks.push(lz4Block(frame.subarray(at, at + size)));
    at += size;
  }
  return Buffer.concat(blocks);
}

function lz4Block(src: Buffer): Buffer {
  const out = Buffer.alloc(LZ4_LEGACY_BLOCK);
  let i = 0;
  let o = 0;
  const length = (n: number) => {
    if (n < 15) return n;
    for (let b = 255; b === 255; n += b) b = src[i++]!;
    return n;
  };
  while (i < src.length) {
    const token = src[i++]!;
    const literals = length(token >> 4);
    src.copy(out, o, i, i + literals);
    i += literals;
    o += literals;
    if (i >= src.length) break; // the last sequence has literals only
    const offset = src.readUInt16LE(i);
    i += 2;
    // Byte by byte: a match may overlap the bytes it is still writing.
    for (let n = length(token & 15) + 4, from = o - offset; n > 0; n--) out[o++] = out[from++]!;
  }
  return out.subarray(0, o);
}

/** Whether the file is an x86 bzImage (its setup header's "HdrS" magic). */
export function isBzImage(file: Buffer): boolean {
  return file.toString('latin1', 0x202, 0x206) === 'HdrS';
}

/** Whether the file is a 64-bit little-endian ELF, as an x86-64 vmlinux is. */
export function isElf64(file: Buffer): boolean {
  return file.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')) && file[4] === 2 && file[5] === 1;
}

/**
 * The release a kernel says it is ("6.1.0-41-amd64"): a bzImage's setup header points at its version
 * string; a vmlinux holds the banner "Linux version RELEASE ...".
 */
export function kernelRelease(file: Buffer): string | undefined {
  if (isBzImage(file)) {
    const at = 0x200 + file.readUInt16LE(0x20e);
    return file.toString('latin1', at, file.indexOf(0, at)).split(' ')[0] || undefined;
  }
  const banner = Buffer.from('Linux version ', 'latin1');
  const at = file.indexOf(banner);
  if (at < 0) return undefined;
  const start = at + banner.length;
  return file.toString('latin1', start, file.indexOf(0x20, start));
}

/** The ELF note type of the PVH 32-bit entry point (XEN_ELFNOTE_PHYS32_ENTRY, owner "Xen"). */
const PVH_ENTRY_NOTE = 18;

/**
 * Whether an ELF vmlinux has a PVH entry point (CONFIG_PVH): QEMU boots such a kernel directly from -kernel,
 * and refuses any other ELF kernel on x86.
 */
export function hasPvhEntry(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    const start = Number(elf.readBigUInt64LE(ph + 8));
    const end = start + Number(elf.readBigUInt64LE(ph + 32));
    for (let at = start; at + 12 <= end; ) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const name = elf.toString('latin1', at + 12, at + 12 + namesz).replace(/\0+$/, '');
      if (name === 'Xen' && elf.readUInt32LE(at + 8) === PVH_ENTRY_NOTE) return true;
      at += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

const align4 = (n: number) => (n + 3) & ~3;

/**
 * An arm64 kernel as QEMU's `-kernel` loads it through UEFI: the plain `Image`. Debian's arm64 vmlinuz is
 * already one in bookworm (a 32 MB PE/COFF Image with the "ARMd" magic); a gzip-compressed one is
 * decompressed, and an EFI zboot image ("zimg") has its compressed Image taken out, so QEMU and the firmware
 * decompress nothing at each boot.
 */
export async function arm64Image(vmlinuz: Buffer): Promise<Buffer> {
  const isImage = (b: Buffer) => b.toString('latin1', 0x38, 0x3c) === 'ARM\x64';
  if (isImage(vmlinuz)) return vmlinuz;
  let image: Buffer;
  if (vmlinuz[0] === 0x1f && vmlinuz[1] === 0x8b) image = gunzipSync(vmlinuz);
  else if (vmlinuz.toString('latin1', 4, 8) === 'zimg') {
    // The zboot header: payload offset and size at 0x08 and 0x0c, the compression's name at 0x18.
    const payload = vmlinuz.subarray(vmlinuz.readUInt32LE(8), vmlinuz.readUInt32LE(8) + vmlinuz.readUInt32LE(12));
    const method = vmlinuz.toString('latin1', 0x18, vmlinuz.indexOf(0, 0x18));
    if (method === 'gzip') image = gunzipSync(payload);
    else if (method === 'zstd') image = await unpackWith('zstd', [], payload);
    else throw new Error(`EFI zboot kernel compressed with ${method}, which the builder does not decompress`);
  } else throw new Error(`not an arm64 kernel Image, gzip or EFI zboot file (starts ${vmlinuz.subarray(0, 8).toString('hex')})`);
  if (!isImage(image)) throw new Error('the decompressed kernel is not an arm64 Image (no ARMd magic)');
  return image;
}
