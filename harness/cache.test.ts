import { chmodSync, chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheDir, trustedCacheRoot } from './cache.js';
import { EnvironmentError } from './errors.js';

let base: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'nvh-cache-test-'));
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(base, { recursive: true, force: true });
});

/** A cache root with this mode (and owner), made for the test. */
function root(name: string, mode: number, uid = process.getuid!()): string {
  const dir = join(base, name);
  mkdirSync(dir);
  chmodSync(dir, mode);
  chownSync(dir, uid, uid);
  return dir;
}

describe('the cache root', () => {
  it('is made with mode 0700 when missing, parents included', () => {
    const dir = join(base, 'a', 'cache');
    expect(trustedCacheRoot(dir)).toBe(realpathSync(dir));
    const st = statSync(dir);
    expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([process.getuid!(), '700']);
  });

  it("is used when it is this user's and not writable by group or others", () => {
    for (const mode of [0o700, 0o755, 0o750]) expect(trustedCacheRoot(root(`ok-${mode.toString(8)}`, mode))).toContain(base);
  });

  it('is refused when writable by others or group, saying how to fix it', () => {
    const open = root('open', 0o777);
    expect(() => trustedCacheRoot(open)).toThrow(EnvironmentError);
    expect(() => trustedCacheRoot(open)).toThrow(new RegExp(`writable by group and others \\(mode 0777\\).*; run chmod go-w ${open},`));
    expect(() => trustedCacheRoot(root('group', 0o775))).toThrow(/writable by group \(mode 0775\)/);
    expect(() => trustedCacheRoot(root('others', 0o757))).toThrow(/writable by others \(mode 0757\)/);
  });

  it("is refused when it is another user's, even with mode 0700", () => {
    const theirs = root('theirs', 0o700, 12345);
    expect(() => trustedCacheRoot(theirs)).toThrow(EnvironmentError);
    expect(() => trustedCacheRoot(theirs)).toThrow(/belongs to uid 12345.*NVDIMM_HARNESS_CACHE=DIR/);
  });

  it('is refused when it is a file', () => {
    writeFileSync(join(base, 'file'), '');
    expect(() => trustedCacheRoot(join(base, 'file'))).toThrow(/is not a directory/);
  });

  it('behind a symbolic link: the directory it names is checked, and used from then on', () => {
    const real = root('real', 0o700);
    symlinkSync(real, join(base, 'link'));
    expect(trustedCacheRoot(join(base, 'link'))).toBe(realpathSync(real));
    const open = root('open', 0o777);
    symlinkSync(open, join(base, 'open-link'));
    expect(() => trustedCacheRoot(join(base, 'open-link'))).toThrow(/writable by group and others/);
  });

  it('is checked before cacheDir hands out any path in it, once per process', () => {
    const open = root('open', 0o777);
    vi.stubEnv('NVDIMM_HARNESS_CACHE', open);
    expect(() => cacheDir('qemu', 'sid', 'manifest.json')).toThrow(EnvironmentError);
    const good = root('good', 0o700);
    vi.stubEnv('NVDIMM_HARNESS_CACHE', good);
    expect(cacheDir('images')).toBe(join(realpathSync(good), 'images'));
    // Memoized: a later change is not looked at again within this process.
    chmodSync(good, 0o777);
    expect(cacheDir('images')).toBe(join(realpathSync(good), 'images'));
  });
});
