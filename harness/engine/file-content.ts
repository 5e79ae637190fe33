/**
 * What a host file holds, for `expect-file: { unchanged }`: the SHA-256 of each 1 MiB chunk that is not all
 * zeros. Backend files are mostly holes, so this hashes a fraction of what a whole-file SHA-256 does, and two
 * of them tell where a file changed, not only that it did.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

export const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);

export interface FileContent {
  size: number;
  /** Chunk index -> SHA-256 of the chunk, for each chunk that is not all zeros. */
  chunks: Record<number, string>;
}

export async function fileContent(path: string): Promise<FileContent> {
  const handle = await open(path, 'r');
  try {
    // Read whole, holes included: a file system's block count is not proof of zeros (FUSE file systems may
    // report no blocks for a file full of data), and a shortcut on it could pass a changed file as unchanged.
    const { size } = await handle.stat();
    const content: FileContent = { size, chunks: {} };
    const buffer = Buffer.alloc(CHUNK);
    for (let index = 0; index * CHUNK < size; index++) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, index * CHUNK);
      const chunk = buffer.subarray(0, bytesRead);
      if (!chunk.equals(ZEROS.subarray(0, bytesRead))) content.chunks[index] = createHash('sha256').update(chunk).digest('hex');
    }
    return content;
  } finally {
    await handle.close();
  }
}

/** Where two contents of a file differ: its size, or the chunks whose bytes differ (in order). */
export function contentDifference(before: FileContent, now: FileContent): { size: boolean; chunks: number[] } {
  const indices = new Set([...Object.keys(before.chunks), ...Object.keys(now.chunks)].map(Number));
  const chunks = [...indices].filter((i) => before.chunks[i] !== now.chunks[i]).sort((a, b) => a - b);
  return { size: before.size !== now.size, chunks };
}

/** The whole file's SHA-256, for `expect-file: { sha256 }`. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
