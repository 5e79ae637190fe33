import ssh2 from 'ssh2';

import { GuestCommandError } from '../errors.js';

const { Client, utils } = ssh2;

export interface KeyPair {
  private: string;
  /** The public key blob, base64, as authorized_keys has it after the type. */
  publicBlob: string;
}

/** A key pair made for one run; it never touches the disk (unless the run's guests are kept). */
export function runKeyPair(): KeyPair {
  // ssh2 1.17 writes about 1 ed25519 key in 300 in a form its own parser then refuses
  // ("Malformed OpenSSH private key"): a key is only used once it parses.
  for (;;) {
    const keys = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(keys.private) instanceof Error)) return { private: keys.private, publicBlob: keys.public.split(' ')[1]! };
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const CIPHERS: ('chacha20-poly1305@openssh.com' | 'aes128-gcm@openssh.com' | 'aes128-ctr')[] = [
  'chacha20-poly1305@openssh.com',
  'aes128-gcm@openssh.com',
  'aes128-ctr',
];

/** An SSH session in a guest, on 127.0.0.1 only, accepting only the host key the guest printed at boot. */
export class SshSession {
  private constructor(private readonly client: InstanceType<typeof Client>) {}

  static connect(port: number, keys: KeyPair, hostKeyBlob: string, timeoutMs: number): Promise<SshSession> {
    const pinned = Buffer.from(hostKeyBlob, 'base64');
    return new Promise((resolve, reject) => {
      const client = new Client();
      client
        .once('ready', () => {
          // Later errors (the guest rebooting or stopping under us) end the session, not the harness.
          client.on('error', () => undefined);
          resolve(new SshSession(client));
        })
        .once('error', (e) => reject(new Error(`SSH to 127.0.0.1:${port} failed: ${e.message}`)))
        .connect({
          host: '127.0.0.1',
          port,
          username: 'root',
          privateKey: keys.private,
          // The key only: ssh2 otherwise asks for the "none" method first, one more round trip (about 5 ms).
          authHandler: ['publickey'],
          readyTimeout: timeoutMs,
          hostVerifier: (key: Buffer) => key.equals(pinned),
          // ChaCha20 first: the TCG guest's CPU has no AES instructions, and in software ChaCha20-Poly1305 moves
          // 8 MiB in 0.7 s where AES-GCM (ssh2's first choice) takes 1.15 s; connecting is 20 ms faster too.
          algorithms: { cipher: CIPHERS },
        })
        // Without Nagle's delay: each command's channel-open and exec request are small writes that otherwise
        // waited for the previous one's ACK; `true` took 100 ms a command, now 17 ms (median of 8, under TCG).
        .setNoDelay(true);
    });
  }

  /** Runs a command; one that has not finished after `timeoutMs` is abandoned with what it printed so far. */
  exec(command: string, stdin?: Buffer, timeoutMs?: number): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(err);
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const text = (b: Buffer[]) => Buffer.concat(b).toString('utf8');
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                stream.close();
                reject(
                  new GuestCommandError({
                    why: `\`${command}\` did not finish within ${timeoutMs / 1000} s (the step's timeout)`,
                    evidence: [
                      ['stdout so far', text(out)],
                      ['stderr so far', text(errOut)],
                    ],
                  }),
                );
              }, timeoutMs);
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          resolve({ code: code ?? (signal ? 128 : 255), stdout: text(out), stderr: text(errOut) });
        });
        stream.end(stdin);
      });
    });
  }

  /**
   * An interactive shell wired to this process's terminal: a pty when stdin is a terminal, a plain shell
   * reading piped commands otherwise. Resolves when the shell exits.
   */
  interactive(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): Promise<void> {
    const tty = stdin.isTTY === true;
    const window = tty ? { term: process.env.TERM ?? 'xterm', rows: stdout.rows ?? 24, cols: stdout.columns ?? 80 } : false;
    return new Promise((resolve, reject) => {
      this.client.shell(window, (err, stream) => {
        if (err) return reject(err);
        const resize = () => stream.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
        if (tty) {
          stdin.setRawMode(true);
          stdout.on('resize', resize);
        }
        stdin.pipe(stream);
        stream.pipe(stdout, { end: false });
        stream.stderr.pipe(process.stderr, { end: false });
        stream.on('close', () => {
          stdin.unpipe(stream);
          if (tty) {
            stdin.setRawMode(false);
            stdout.off('resize', resize);
          }
          stdin.pause();
          resolve();
        });
      });
    });
  }

  close(): void {
    this.client.end();
  }
}
