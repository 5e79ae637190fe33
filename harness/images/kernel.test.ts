import { describe, expect, it } from 'vitest';
import { hasPvhEntry, isBzImage, isElf64, kernelRelease, lz4Legacy } from './kernel.js';

/** A bzImage's first page: the setup header's magic and the pointer to its version string. */
function bzImageHead(version: string): Buffer {
  const file = Buffer.alloc(0x400);
  file.write('HdrS', 0x202, 'latin1');
  file.writeUInt16LE(0x300 - 0x200, 0x20e);
  file.write(`${version} (builder@host) #1 SMP\0`, 0x300, 'latin1');
  return file;
}

/** An ELF64 with one PT_NOTE program header over the given notes. */
function elf(notes: { name: string; type: number }[], extra = ''): Buffer {
  const note = (n: { name: string; type: number }) => {
    const name = Buffer.from(`${n.name}\0`, 'latin1');
    const padded = Buffer.concat([name, Buffer.alloc((4 - (name.length % 4)) % 4)]);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(name.length, 0);
    head.writeUInt32LE(4, 4);
    head.writeUInt32LE(n.type, 8);
    return Buffer.concat([head, padded, Buffer.alloc(4)]);
  };
  const body = Buffer.concat(notes.map(note));
  const header = Buffer.alloc(0x40 + 56);
  Buffer.from('\x7fELF', 'latin1').copy(header);
  header[4] = 2;
  header[5] = 1;
  header.writeBigUInt64LE(0x40n, 0x20);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(1, 0x38);
  header.writeUInt32LE(4, 0x40); // PT_NOTE
  header.writeBigUInt64LE(BigInt(header.length), 0x40 + 8);
  header.writeBigUInt64LE(BigInt(body.length), 0x40 + 32);
  return Buffer.concat([header, body, Buffer.from(extra, 'latin1')]);
}

describe('kernel files', () => {
  it('reads the release from a bzImage setup header', () => {
    const file = bzImageHead('6.13.0-rc1-00042-gdeadbeef');
    expect(isBzImage(file)).toBe(true);
    expect(isElf64(file)).toBe(false);
    expect(kernelRelease(file)).toBe('6.13.0-rc1-00042-gdeadbeef');
  });

  it('reads the release from a vmlinux banner', () => {
    const file = elf([], '\0Linux version 6.1.0-50-amd64 (builder@host.example) (gcc)\0');
    expect(isElf64(file)).toBe(true);
    expect(isBzImage(file)).toBe(false);
    expect(kernelRelease(file)).toBe('6.1.0-50-amd64');
    expect(kernelRelease(elf([]))).toBeUndefined();
  });

  it('finds the PVH entry note (owner Xen, type 18) among other notes', () => {
    expect(
      hasPvhEntry(
        elf([
          { name: 'Linux', type: 1 },
          { name: 'Xen', type: 18 },
        ]),
      ),
    ).toBe(true);
    expect(
      hasPvhEntry(
        elf([
          { name: 'Linux', type: 18 },
          { name: 'Xen', type: 17 },
        ]),
      ),
    ).toBe(false);
    expect(hasPvhEntry(elf([]))).toBe(false);
  });
});

describe('lz4Legacy', () => {
  it('decodes literals, long literal runs and overlapping matches', () => {
    const literals = 'abcdefghijklmnopqrst'; // 20: a length nibble of 15 and one more byte of 5
    const block = Buffer.concat([
      Buffer.from([0xf5, 20 - 15]),
      Buffer.from(literals, 'latin1'),
      Buffer.from([3, 0]), // a match 3 back, 4 + 5 = 9 long: it overlaps what it writes
      Buffer.from([0x10, 0x21]), // the last sequence: one literal, "!"
    ]);
    const frame = Buffer.alloc(8);
    Buffer.from([0x02, 0x21, 0x4c, 0x18]).copy(frame);
    frame.writeUInt32LE(block.length, 4);
    expect(lz4Legacy(Buffer.concat([frame, block])).toString('latin1')).toBe(`${literals}rstrstrst!`);
  });
});
