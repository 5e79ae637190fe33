import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { neededLibraries } from './elf.js';
import { arm64Image } from './kernel.js';

describe('neededLibraries', () => {
  it("reads a real binary's DT_NEEDED names: this node's libc and libm", () => {
    const needed = neededLibraries(readFileSync(process.execPath));
    expect(needed).toContain('libc.so.6');
    expect(needed).toContain('libm.so.6');
  });

  it('refuses what is not a 64-bit ELF file', () => {
    expect(() => neededLibraries(Buffer.from('#!/bin/sh\n'))).toThrow(/not an ELF/);
  });
});

describe('arm64Image', () => {
  // The arm64 Image header: "ARMd" at 0x38.
  const image = Buffer.alloc(0x100);
  image.write('ARM\x64', 0x38, 'latin1');

  it('keeps a plain Image as it is and decompresses a gzipped one', async () => {
    expect(await arm64Image(image)).toBe(image);
    expect((await arm64Image(gzipSync(image))).equals(image)).toBe(true);
  });

  it('takes the Image out of an EFI zboot file', async () => {
    const payload = gzipSync(image);
    const header = Buffer.alloc(0x40);
    header.write('MZ', 0, 'latin1');
    header.write('zimg', 4, 'latin1');
    header.writeUInt32LE(0x40, 8);
    header.writeUInt32LE(payload.length, 12);
    header.write('gzip\0', 0x18, 'latin1');
    expect((await arm64Image(Buffer.concat([header, payload]))).equals(image)).toBe(true);
  });

  it('refuses anything else', async () => {
    await expect(arm64Image(Buffer.alloc(0x100))).rejects.toThrow(/not an arm64 kernel/);
  });
});
