/**
 * The little of ELF the image builder needs for binaries this host cannot run (arm64 on x86-64): which
 * shared libraries a binary names (DT_NEEDED). 64-bit little-endian only, as every Debian arch built here.
 */

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

/** The DT_NEEDED entries of an ELF64 little-endian file (a program or a shared library), in order. */
export function neededLibraries(elf: Buffer): string[] {
  if (!elf.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const segments = Array.from({ length: phnum }, (_, i) => {
    const at = phoff + i * phentsize;
    return {
      type: elf.readUInt32LE(at),
      offset: Number(elf.readBigUInt64LE(at + 8)),
      vaddr: Number(elf.readBigUInt64LE(at + 16)),
      filesz: Number(elf.readBigUInt64LE(at + 32)),
    };
  });
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return []; // statically linked
  // The dynamic section gives the string table by its address in memory: map it back to the file.
  const fileOffset = (vaddr: number) => {
    const load = segments.find((s) => s.type === PT_LOAD && vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!load) throw new Error(`ELF address 0x${vaddr.toString(16)} is in no loaded segment`);
    return vaddr - load.vaddr + load.offset;
  };
  const needed: bigint[] = [];
  let strtab: number | undefined;
  for (let at = dynamic.offset; at < dynamic.offset + dynamic.filesz; at += 16) {
    const tag = elf.readBigInt64LE(at);
    const value = elf.readBigUInt64LE(at + 8);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) needed.push(value);
    if (tag === DT_STRTAB) strtab = fileOffset(Number(value));
  }
  if (strtab === undefined) throw new Error('ELF dynamic section without a string table');
  return needed.map((n) => {
    const start = strtab! + Number(n);
    return elf.toString('latin1', start, elf.indexOf(0, start));
  });
}
