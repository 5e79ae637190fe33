import { execa } from 'execa';
import { gunzipSync } from 'node:zlib';
import { decompress as unzstd } from 'fzstd';

/**
 * Takes the uncompressed ELF vmlinux out of an x86 bzImage. QEMU boots such an ELF through its PVH entry
 * point with no decompression step, which is most of a TCG boot's kernel start-up time.
 */
export async function vmlinuxFromBzImage(bzImage: Buffer): Promise<Buffer> {
  if (bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error('not an x86 bzImage (no HdrS setup header)');
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

/** Debian's kernels are xz-compressed up to bookworm and zstd-compressed from trixie on. */
async function decompress(payload: Buffer): Promise<Buffer> {
  // The kernel build appends the uncompressed size (4 bytes) to the compressed stream.
  if (payload.subarray(0, 4).equals(ZSTD)) return Buffer.from(unzstd(payload.subarray(0, payload.length - 4)));
  if (payload.subarray(0, 6).equals(XZ)) {
    // --single-stream stops at the end of the xz stream, before the appended size.
    const { stdout } = await execa('xz', ['--decompress', '--stdout', '--single-stream'], { input: payload, encoding: 'buffer' });
    return Buffer.from(stdout);
  }
  throw new Error(`kernel payload is neither xz- nor zstd-compressed (magic ${payload.subarray(0, 6).toString('hex')})`);
}

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
    else if (method === 'zstd') image = Buffer.from(unzstd(payload));
    else throw new Error(`EFI zboot kernel compressed with ${method}, which the builder does not decompress`);
  } else throw new Error(`not an arm64 kernel Image, gzip or EFI zboot file (starts ${vmlinuz.subarray(0, 8).toString('hex')})`);
  if (!isImage(image)) throw new Error('the decompressed kernel is not an arm64 Image (no ARMd magic)');
  return image;
}
