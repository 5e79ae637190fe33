import { createHash } from 'node:crypto';

/**
 * The bytes of a named pattern: SHA-256 in counter mode over the name, so a pattern is the same on every
 * run and any two names differ everywhere. A test writes it in one place and looks for it in another.
 */
export function patternBytes(name: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let block = 0, at = 0; at < length; block++, at += 32) {
    createHash('sha256').update(`${name}\0${block}`).digest().copy(out, at);
  }
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** dd's block size and block numbers for [offset, offset + length): the largest size (up to 64 KiB) dividing both. */
export function ddBlocks(offset: number, length: number): { bs: number; start: number; count: number } {
  let bs = 65536;
  while (bs > 512 && (offset % bs !== 0 || length % bs !== 0)) bs /= 2;
  return { bs, start: offset / bs, count: length / bs };
}
