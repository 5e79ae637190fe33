/**
 * Debian's package lists are fetched once per suite and shared through the cache: a second fetch of the
 * same suite reads them instead of running `apt-get update` again, lists that no longer serve are fetched
 * again, and old ones are removed. Against the configured Debian mirror, with a cache of the test's own.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SETTINGS } from '../settings.js';
import type { withDebianIndex as WithDebianIndex } from './apt.js';
import { debianMirror } from './mirror.js';

let cache: string;
/** apt.ts as a process that has fetched nothing yet would have it (files share their worker's modules). */
async function freshApt(): Promise<typeof WithDebianIndex> {
  vi.resetModules();
  return (await import('./apt.js')).withDebianIndex;
}
const indexes = () => readdirSync(join(cache, 'apt')).sort();
const HOUR = 60 * 60 * 1000;

/** An index in the cache as a finished fetch leaves one, but with no lists: it names no package at all. */
function emptyIndex(time: number): string {
  const dir = join(cache, 'apt', `bookworm-amd64-${time}-abcdef`);
  mkdirSync(join(dir, 'var/lib/apt/lists/partial'), { recursive: true });
  mkdirSync(join(dir, 'etc/apt'), { recursive: true });
  writeFileSync(join(dir, 'status'), '');
  writeFileSync(join(dir, 'etc/apt/sources.list'), '');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ suite: 'bookworm', arch: 'amd64', mirror: debianMirror() }));
  return basename(dir);
}

describe("Debian's package lists, shared through the cache", { timeout: 120_000 }, () => {
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'nvdimm-harness-apt-'));
    vi.stubEnv(SETTINGS.cache.env, cache);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(cache, { recursive: true, force: true });
  });

  it('fetches fresh lists when the cached ones do not serve, and removes lists older than an hour and a half', async () => {
    const stale = emptyIndex(Date.now() - 2 * HOUR);
    const empty = emptyIndex(Date.now() - 60_000);
    const withDebianIndex = await freshApt();
    const debs = await withDebianIndex('bookworm', debianMirror(), 'amd64', (apt) =>
      apt.downloadClosure(['busybox-static'], join(cache, 'debs1')),
    );
    expect(debs.map((d) => basename(d).split('_')[0])).toEqual(['busybox-static']);
    const now = indexes();
    expect(now).not.toContain(stale);
    expect(now).toContain(empty);
    expect(now).toHaveLength(2);
  });

  it('fetches the lists again after a fetch of them failed, instead of failing with that fetch for the rest of the process', async () => {
    const withDebianIndex = await freshApt();
    // Nothing listens on port 9 of the loopback: apt-get update fails at once.
    const fetch = () =>
      withDebianIndex('bookworm', 'http://127.0.0.1:9/debian', 'amd64', (apt) => apt.dependencies('ndctl')).catch((e: Error) => e);
    const first = await fetch();
    expect(first).toBeInstanceOf(Error);
    expect((first as Error).message).toMatch(/apt-get update failed/);
    const second = await fetch();
    expect(second).toBeInstanceOf(Error);
    expect(second).not.toBe(first);
  });

  it("serves another process's fetch of the suite from those lists, without fetching them again", async () => {
    const before = indexes();
    const anotherProcess = await freshApt();
    const deps = await anotherProcess('bookworm', debianMirror(), 'amd64', (apt) => apt.dependencies('ndctl'));
    expect(deps).toContain('libndctl6');
    expect(indexes()).toEqual(before);
  });
});
