import { execa } from 'execa';
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
