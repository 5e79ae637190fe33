import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestSpec } from '../scenario/schema.js';
import type { QemuBinary } from '../qemu/binary.js';
import { qemuArgv, type Accel } from '../qemu/argv.js';
import { QemuProcess, type QemuExit } from '../qemu/process.js';
import { Qmp } from '../qemu/qmp.js';
import { GuestFailure, SerialConsole } from './console.js';
import { SshSession, type ExecResult, type KeyPair } from './ssh.js';

export interface GuestOptions {
  name: string;
  spec: GuestSpec;
  qemu: QemuBinary;
  kernel: string;
  initramfs: string;
  accel: Accel;
  files: Record<string, string>;
  fileSizes: Record<string, number>;
  /** Private run directory: sockets and logs go here. */
  dir: string;
  keys: KeyPair;
  bootTimeoutMs: number;
  /** Extra kernel command line words. */
  append?: string[];
  /** Start QEMU so that it can keep running after the harness exits (--keep). */
  outliveHarness?: boolean;
}

/** QEMU refused to start, or exited before the guest was up: its own words and exit status. */
export class QemuExitedError extends Error {
  constructor(
    readonly exit: QemuExit,
    readonly commandLine: string,
    serial: string,
  ) {
    super(
      `QEMU exited with ${exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`} before the guest was up:\n` +
        `${exit.stderr || '(nothing on stderr)'}\n--- serial console ---\n${serial}`,
    );
    this.name = 'QemuExitedError';
  }
}

const PORT_TAKEN = /Could not set up host forwarding rule/;

/** One running guest: its QEMU process, serial console, QMP and SSH. */
export class Guest {
  ssh: SshSession | undefined;
  qmp: Qmp | undefined;
  readonly console: SerialConsole;
  /** Milliseconds from starting QEMU to SSH answering. */
  bootMs = 0;
  /** The host key the guest printed at its last boot, base64. */
  hostKey: string | undefined;

  private constructor(
    readonly opts: GuestOptions,
    readonly process: QemuProcess,
    readonly sshPort: number,
  ) {
    this.console = new SerialConsole(process.stdout, join(opts.dir, `${opts.name}.serial.log`));
  }

  get commandLine(): string {
    return this.process.commandLine;
  }

  /** Starts QEMU only; `ready()` waits for the guest. A start-up refusal surfaces from either. */
  static async launch(opts: GuestOptions): Promise<Guest> {
    const port = await freePort();
    const argv = qemuArgv(
      {
        guest: opts.spec,
        files: opts.files,
        kernel: opts.kernel,
        initramfs: opts.initramfs,
        append: [`nvh.authkey=${opts.keys.publicBlob}`, ...(opts.append ?? [])],
        accel: opts.accel,
        qmpSocket: join(opts.dir, `${opts.name}.qmp`),
        sshPort: port,
        firmware: opts.qemu.firmware,
      },
      opts.fileSizes,
    );
    const guest = new Guest(opts, new QemuProcess(opts.qemu, argv, opts.outliveHarness), port);
    await writeFile(join(opts.dir, `${opts.name}.cmdline`), `${guest.commandLine}\n`, { mode: 0o600 });
    return guest;
  }

  /**
   * Launches and waits until SSH answers; a forwarding port taken meanwhile by someone else is retried.
   * `onLaunch` sees each QEMU started, for reports.
   */
  static async boot(opts: GuestOptions, onLaunch: (g: Guest) => void = () => {}): Promise<Guest> {
    for (let attempt = 1; ; attempt++) {
      const guest = await Guest.launch(opts);
      onLaunch(guest);
      try {
        await guest.ready();
        return guest;
      } catch (e) {
        await guest.stop();
        if (e instanceof QemuExitedError && PORT_TAKEN.test(e.exit.stderr) && attempt < 5) continue;
        throw e;
      }
    }
  }

  /**
   * Waits for the guest's sshd (announced on the console from line `from` on), failing at once if QEMU
   * exits or the guest panics.
   */
  async ready(from = 0): Promise<void> {
    const started = Date.now();
    const deadline = sleep(this.opts.bootTimeoutMs, 'timeout' as const, { ref: false });
    const outcome = await Promise.race([
      this.console.waitFor(/^NVH-READY/, from).then(() => 'ready' as const),
      this.process.exited.then((exit) => ({ exit })),
      this.console.fatal(from).then((line) => ({ fatal: line })),
      deadline,
    ]);
    if (outcome === 'timeout') {
      throw new GuestFailure(
        `guest ${this.opts.name} did not bring up sshd within ${this.opts.bootTimeoutMs / 1000} s`,
        this.console.excerpt(),
      );
    }
    if (typeof outcome === 'object' && 'exit' in outcome) {
      throw new QemuExitedError(outcome.exit, this.commandLine, this.console.excerpt());
    }
    if (typeof outcome === 'object' && 'fatal' in outcome) {
      throw new GuestFailure(
        `guest ${this.opts.name} failed during boot: ${outcome.fatal}`,
        this.console.excerpt(new RegExp(escape(outcome.fatal))),
      );
    }
    // Each boot makes a new host key: the one printed by this boot is the one to accept.
    const [, hostKey] = await this.console.waitFor(/^NVH-HOSTKEY ssh-ed25519 (\S+)/, from);
    this.hostKey = hostKey!;
    this.ssh = await SshSession.connect(this.sshPort, this.opts.keys, hostKey!, this.opts.bootTimeoutMs);
    this.qmp ??= await Qmp.connect(join(this.opts.dir, `${this.opts.name}.qmp`));
    this.bootMs = Date.now() - started;
  }

  /** Reboots from inside the guest, as a user would, and waits until its sshd is up again. */
  async reboot(): Promise<void> {
    const from = this.console.lines.length;
    const ssh = this.ssh!;
    this.ssh = undefined;
    // The connection dies with the guest; its exec never completes.
    void ssh.exec('reboot -f').catch(() => undefined);
    await this.ready(from);
    ssh.close();
  }

  /** Waits for QEMU to exit on its own (a refused configuration), or for the guest to come up instead. */
  async outcome(timeoutMs: number): Promise<{ exit: QemuExit } | { booted: true } | { fatal: string } | { timeout: true }> {
    return Promise.race([
      this.process.exited.then((exit) => ({ exit })),
      this.console.waitFor(/^NVH-INIT/).then(() => ({ booted: true as const })),
      this.console.fatal().then((fatal) => ({ fatal })),
      sleep(timeoutMs, { timeout: true as const }, { ref: false }),
    ]);
  }

  exec(command: string, stdin?: Buffer): Promise<ExecResult> {
    if (!this.ssh) throw new Error(`guest ${this.opts.name} is not booted`);
    return this.ssh.exec(command, stdin);
  }

  /** Lets go of a guest that is to keep running: the harness's connections close, QEMU stays. */
  release(): void {
    this.ssh?.close();
    this.qmp?.close();
    this.process.stdout.destroy();
  }

  /** Stops QEMU (QMP quit if connected, else SIGTERM, then SIGKILL) and keeps its QMP transcript. */
  async stop(): Promise<QemuExit> {
    this.ssh?.close();
    if (this.qmp && !this.process.hasExited) {
      await Promise.race([this.qmp.execute('quit').catch(() => undefined), sleep(2000, undefined, { ref: false })]);
    }
    const exit = this.qmp ? await Promise.race([this.process.exited, sleep(3000, undefined, { ref: false })]) : undefined;
    const final = exit ?? (await this.process.kill());
    this.qmp?.close();
    if (this.qmp) await writeFile(join(this.opts.dir, `${this.opts.name}.qmp.log`), `${this.qmp.transcript.join('\n')}\n`, { mode: 0o600 });
    await this.console.close();
    return final;
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A port on 127.0.0.1 that was free a moment ago; QEMU failing to bind it is retried by `boot`. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
