import { execa } from 'execa';

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
  if (!payload.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new Error(`kernel payload is not xz-compressed (magic ${payload.subarray(0, 6).toString('hex')})`);
  }
  // The payload ends with the uncompressed size appended by the kernel build; --single-stream stops before it.
  const { stdout } = await execa('xz', ['--decompress', '--stdout', '--single-stream'], {
    input: payload,
    encoding: 'buffer',
  });
  const elf = Buffer.from(stdout);
  if (!elf.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) throw new Error('decompressed kernel is not an ELF file');
  return elf;
}
