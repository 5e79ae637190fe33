import { describe, expect, it } from 'vitest';
import { packageVersions } from './build.js';

describe('packageVersions', () => {
  it("reads name and version from apt's file names, the epoch's colon unescaped", () => {
    expect(
      packageVersions([
        '/c/archives/busybox-static_1%3a1.35.0-4+b3_amd64.deb',
        '/c/kernel-debs/linux-image-6.12.117+deb13-amd64_6.12.117-1_amd64.deb',
      ]),
    ).toEqual({ 'busybox-static': '1:1.35.0-4+b3', 'linux-image-6.12.117+deb13-amd64': '6.12.117-1' });
  });

  it('refuses a file apt did not name', () => {
    expect(() => packageVersions(['/c/archives/busybox.deb'])).toThrow(/busybox\.deb is not named NAME_VERSION_ARCH\.deb/);
  });
});
