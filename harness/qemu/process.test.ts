import { describe, expect, it } from 'vitest';
import { shellCommand } from './process.js';

describe('shellCommand', () => {
  it('leaves plain words unquoted', () => {
    expect(shellCommand('qemu-system-x86_64', ['-m', '512M,slots=2', '-machine', 'pc,nvdimm=on'])).toBe(
      'qemu-system-x86_64 -m 512M,slots=2 -machine pc,nvdimm=on',
    );
  });

  it('quotes words with spaces or shell characters, and single quotes inside them', () => {
    expect(shellCommand('/opt/my qemu', ['-append', 'console=ttyS0 quiet', "it's", '$HOME', 'a;b', ''])).toBe(
      `'/opt/my qemu' -append 'console=ttyS0 quiet' 'it'\\''s' '$HOME' 'a;b' ''`,
    );
  });

  it('puts the environment first, quoted the same way', () => {
    expect(shellCommand('qemu', ['-version'], { LD_LIBRARY_PATH: '/a/lib', MSG: 'a b' })).toBe(
      `LD_LIBRARY_PATH=/a/lib MSG='a b' qemu -version`,
    );
  });
});
