import { generateKeyPairSync } from 'node:crypto';

/**
 * The guest's SSH host key, made when its image is built: dropbearkey making one at boot took about 0.12 s
 * of every boot under TCG. The private half is in the image (in the user's own cache); the guest prints the
 * public half on its console at every boot, and the harness accepts only that key.
 */
export interface HostKey {
  /** dropbear's own key file format: string "ssh-ed25519", then a string of the 32-byte seed and 32-byte public key. */
  dropbearFile: Buffer;
  /** The public key as `ssh-ed25519 BASE64`, the form dropbearkey prints. */
  publicLine: string;
}

export function makeHostKey(): HostKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const name = sshString(Buffer.from('ssh-ed25519'));
  return {
    dropbearFile: Buffer.concat([name, sshString(Buffer.concat([seed, pub]))]),
    publicLine: `ssh-ed25519 ${Buffer.concat([name, sshString(pub)]).toString('base64')}`,
  };
}

/** SSH's string: a 32-bit big-endian length, then the bytes. */
function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}
