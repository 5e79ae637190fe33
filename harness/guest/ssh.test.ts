import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { runKeyPair } from './ssh.js';

describe('runKeyPair', () => {
  it('only hands out keys that ssh2 can parse back (ssh2 alone fails about 1 in 300)', () => {
    for (let i = 0; i < 1000; i++) {
      const keys = runKeyPair();
      expect(ssh2.utils.parseKey(keys.private)).not.toBeInstanceOf(Error);
      expect(keys.publicBlob).toMatch(/^AAAAC3NzaC1lZDI1NTE5/);
    }
  });
});
