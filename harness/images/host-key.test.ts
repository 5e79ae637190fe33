import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeHostKey } from './host-key.js';

/** The fields of an SSH wire-format buffer: each a 32-bit big-endian length and that many bytes. */
function sshStrings(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const length = data.readUInt32BE(at);
    out.push(data.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

describe('makeHostKey', () => {
  it("writes dropbear's ed25519 key file: the name, then the seed and the public key as one 64-byte string", () => {
    const key = makeHostKey();
    expect(key.dropbearFile).toHaveLength(83); // what dropbearkey -t ed25519 writes
    const [name, both] = sshStrings(key.dropbearFile);
    expect(name!.toString()).toBe('ssh-ed25519');
    expect(both).toHaveLength(64);
  });

  it('gives the public key the file holds, in the form the guest prints', () => {
    const key = makeHostKey();
    const [, both] = sshStrings(key.dropbearFile);
    const [word, blob] = key.publicLine.split(' ');
    expect(word).toBe('ssh-ed25519');
    const [name, pub] = sshStrings(Buffer.from(blob!, 'base64'));
    expect(name!.toString()).toBe('ssh-ed25519');
    expect(pub).toEqual(both!.subarray(32));
    // The seed is the private key of that public key: a signature made with one verifies with the other.
    const privateKey = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: both!.subarray(0, 32).toString('base64url'), x: pub!.toString('base64url') },
      format: 'jwk',
    });
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub!.toString('base64url') }, format: 'jwk' });
    expect(verify(null, Buffer.from('nvh'), publicKey, sign(null, Buffer.from('nvh'), privateKey))).toBe(true);
  });

  it('makes a new key every time', () => {
    expect(makeHostKey().publicLine).not.toBe(makeHostKey().publicLine);
  });
});
