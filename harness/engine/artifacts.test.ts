import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { artifactFolderName, pruneArtifacts } from './artifacts.js';

describe('pruneArtifacts', () => {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));

  it("keeps the newest folders by the time in their names, and leaves everything that is not the harness's alone", async () => {
    const root = mkdtempSync(join(tmpdir(), 'nvh-artifacts-'));
    roots.push(root);
    const times = [1795758000000, 1795758000001, 1795758000002, 1795758000003];
    for (const [i, t] of times.entries()) mkdirSync(join(root, artifactFolderName(`s${i}`, 100 + i, t)));
    mkdirSync(join(root, 'my-notes'));
    writeFileSync(join(root, 'basic-1-1795757000000'), 'a file, not a folder');

    const removed = await pruneArtifacts(root, 2);

    expect(removed.map((r) => r.slice(root.length + 1)).sort()).toEqual(['s0-100-1795758000000', 's1-101-1795758000001']);
    expect(readdirSync(root).sort()).toEqual(['basic-1-1795757000000', 'my-notes', 's2-102-1795758000002', 's3-103-1795758000003']);
  });

  it('does nothing when the folder does not exist', async () => {
    expect(await pruneArtifacts(join(tmpdir(), 'nvh-no-such-folder'), 1)).toEqual([]);
  });
});
