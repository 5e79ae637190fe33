import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK, contentDifference, fileContent } from './file-content.js';
import { dataSteps } from './steps/data.js';
import type { CheckKind } from './steps/kind.js';
import type { PlannedArgs } from '../scenario/plan.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nvh-file-content-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sparse(name: string, size: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, '');
  await truncate(path, size);
  return path;
}

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const handle = await open(path, 'r+');
  await handle.write(data, 0, data.length, offset);
  await handle.close();
}

describe('fileContent', () => {
  it('hashes nothing of a file that is all holes, and the same of one whose zeros are written out', async () => {
    const holes = await sparse('holes', 4 * CHUNK);
    const zeros = join(dir, 'zeros');
    await writeFile(zeros, Buffer.alloc(4 * CHUNK));
    expect(await fileContent(holes)).toEqual({ size: 4 * CHUNK, chunks: {} });
    expect(await fileContent(zeros)).toEqual({ size: 4 * CHUNK, chunks: {} });
  });

  it('tells which chunks changed, and a change of size', async () => {
    const path = await sparse('disk', 4 * CHUNK);
    await writeAt(path, 2 * CHUNK + 5, Buffer.from('data'));
    const before = await fileContent(path);
    expect(Object.keys(before.chunks)).toEqual(['2']);

    await writeAt(path, 3 * CHUNK + CHUNK - 1, Buffer.from([1]));
    await writeAt(path, 2 * CHUNK + 6, Buffer.from('A'));
    expect(contentDifference(before, await fileContent(path))).toEqual({ size: false, chunks: [2, 3] });

    // The same bytes written back: no difference.
    await writeAt(path, 3 * CHUNK + CHUNK - 1, Buffer.from([0]));
    await writeAt(path, 2 * CHUNK + 6, Buffer.from('a'));
    expect(contentDifference(before, await fileContent(path))).toEqual({ size: false, chunks: [] });

    await truncate(path, 5 * CHUNK);
    expect(contentDifference(before, await fileContent(path)).size).toBe(true);
  });

  it('reads a small file whole, whatever its blocks', async () => {
    const path = join(dir, 'small');
    await writeFile(path, 'x');
    expect(Object.keys((await fileContent(path)).chunks)).toEqual(['0']);
  });
});

describe('expect-file unchanged', () => {
  const judge = (unchanged: boolean, seen: unknown) =>
    (dataSteps['expect-file'] as CheckKind<'expect-file', unknown>).judge(
      { file: { name: 'disk' }, unchanged } as unknown as PlannedArgs<'expect-file'>,
      seen,
      '7.2.0',
    );

  it('says how many chunks differ and where the first is, or that nothing did', async () => {
    const path = await sparse('disk', 4 * CHUNK);
    const before = await fileContent(path);
    await writeAt(path, 3 * CHUNK, Buffer.from('guest'));
    const now = await fileContent(path);
    expect(() => judge(true, { size: 4 * CHUNK, content: { before, now } })).toThrow(
      'host file disk changed since the scenario started: 1 of its 1 MiB chunks differ, the first at offset 3145728 bytes (3 MiB)',
    );
    expect(() => judge(false, { size: 4 * CHUNK, content: { before, now } })).not.toThrow();
    expect(() => judge(false, { size: 4 * CHUNK, content: { before, now: before } })).toThrow(
      'host file disk is unchanged: all 4194304 bytes (4 MiB) as when the scenario started',
    );
  });
});
