import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GuestDownError, HarnessError, QemuRefusedError, type QemuExit } from '../errors.js';
import type { PlannedMachine } from '../scenario/plan.js';
import type { Accel } from '../settings.js';
import type { QemuBinary } from '../qemu/binary.js';
import { qemuArgv } from '../qemu/argv.js';
import { QemuProcess } from '../qemu/process.js';
import { Qmp } from '../qemu/qmp.js';
import { SerialConsole } from './console.js';
import { SshSession, type ExecResult, type KeyPair } from './ssh.js';

export interface GuestOptions {
  machine: PlannedMachine;
  qemu: QemuBinary;
  kernel: string;
  initramfs: string;
  accel: Accel;
  /** Private run directory: sockets and logs go here. */
  dir: string;
  keys: KeyPair;
  bootTimeoutMs: number;
  /** Extra kernel command line words. */
  append?: string[];
  /** Start QEMU so that it can keep running after the harness exits (--keep). */
  outliveHarness?: boolean;
}

const PORT_TAKEN = /Could not set up host forwarding rule/;
/** Tries at a free forwarding port before giving up: another process may take the port between our check and QEMU's bind. */
const PORT_ATTEMPTS = 5;
/** How long `stop` waits for QMP `quit` to be answered, and then for QEMU to exit, before signals. */
const QUIT_REPLY_MS = 2000;
const QUIT_EXIT_MS = 3000;

export type Outcome = { reached: true } | { exit: QemuExit } | { fatal: string } | { timeout: true };

/** One running guest: its QEMU process, serial console, QMP and SSH. */
export class Guest {
  ssh: SshSession | undefined;
  qmp: Qmp | undefined;
  readonly console: SerialConsole;
  /** Milliseconds from starting QEMU to SSH answering. */
  bootMs = 0;
  /** Where the last boot's time went, in ms: the console's NVH-READY, then SSH and QMP connected (for `bench`). */
  bootPhases = { consoleMs: 0, connectMs: 0 };
  /** The host key the guest printed at its last boot, base64. */
  hostKey: string | undefined;

  private constructor(
    readonly opts: GuestOptions,
    readonly process: QemuProcess,
    readonly sshPort: number,
  ) {
    this.console = new SerialConsole(process.stdout, join(opts.dir, `${opts.machine.name}.serial.log`));
  }

  get commandLine(): string {
    return this.process.commandLine;
  }

  /** Starts QEMU only; `ready()` waits for the guest. A start-up refusal surfaces from either. */
  static async launch(opts: GuestOptions): Promise<Guest> {
    const port = await freePort();
    const argv = qemuArgv(opts.machine, {
      kernel: opts.kernel,
      initramfs: opts.initramfs,
      append: [`nvh.authkey=${opts.keys.publicBlob}`, ...(opts.append ?? [])],
      accel: opts.accel,
      qmpSocket: join(opts.dir, `${opts.machine.name}.qmp`),
      sshPort: port,
      firmware: opts.qemu.firmware,
      ...(opts.qemu.bios ? { bios: opts.qemu.bios } : {}),
    });
    const guest = new Guest(opts, new QemuProcess(opts.qemu, argv, opts.outliveHarness), port);
    // Synchronously: awaited right after the spawn, the same small write took 5 ms instead of 0.4 ms (median of 15).
    writeFileSync(join(opts.dir, `${opts.machine.name}.cmdline`), `${guest.commandLine}\n`, { mode: 0o600 });
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
        if (e instanceof QemuRefusedError && PORT_TAKEN.test(e.exit.stderr) && attempt < PORT_ATTEMPTS) continue;
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
    const outcome = await this.watch(/^NVH-READY/, from, this.opts.bootTimeoutMs);
    const consoleMs = Date.now() - started;
    const name = this.opts.machine.name;
    const beforeInit = !this.console.lines.slice(from).some((l) => /^NVH-INIT/.test(l));
    if ('timeout' in outcome)
      throw new GuestDownError(
        `guest ${name} did not bring up sshd within ${this.opts.bootTimeoutMs / 1000} s`,
        this.console.excerpt(),
        beforeInit,
      );
    if ('exit' in outcome) throw new QemuRefusedError(outcome.exit, this.commandLine, this.console.excerpt());
    if ('fatal' in outcome)
      throw new GuestDownError(
        `guest ${name} failed during boot: ${outcome.fatal}`,
        this.console.excerpt(new RegExp(escape(outcome.fatal))),
        beforeInit,
      );
    // The host key this boot printed (its image's, made when the image was built) is the one to accept.
    const [, hostKey] = await this.console.waitFor(/^NVH-HOSTKEY ssh-ed25519 (\S+)/, from);
    this.hostKey = hostKey!;
    // Both at once: each is a round trip the other need not wait for. Whichever connects is kept, so that
    // `stop` closes it even when the other failed.
    const [ssh, qmp] = await Promise.allSettled([
      SshSession.connect(this.sshPort, this.opts.keys, hostKey!, this.opts.bootTimeoutMs),
      this.qmp ?? Qmp.connect(join(this.opts.dir, `${this.opts.machine.name}.qmp`)),
    ]);
    if (qmp.status === 'fulfilled') this.qmp = qmp.value;
    if (ssh.status === 'fulfilled') this.ssh = ssh.value;
    if (ssh.status === 'rejected') throw ssh.reason;
    if (qmp.status === 'rejected') throw qmp.reason;
    this.bootMs = Date.now() - started;
    this.bootPhases = { consoleMs, connectMs: this.bootMs - consoleMs };
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
  outcome(timeoutMs: number): Promise<Outcome> {
    return this.watch(/^NVH-INIT/, 0, timeoutMs);
  }

  /** The first of: the console marker, QEMU exiting, a fatal console line, the deadline. */
  private watch(marker: RegExp, from: number, timeoutMs: number): Promise<Outcome> {
    return Promise.race([
      this.console.waitFor(marker, from).then(() => ({ reached: true as const })),
      this.process.exited.then((exit) => ({ exit })),
      this.console.fatal(from).then((fatal) => ({ fatal })),
      sleep(timeoutMs, { timeout: true as const }, { ref: false }),
    ]);
  }

  exec(command: string, stdin?: Buffer, timeoutMs?: number): Promise<ExecResult> {
    if (!this.ssh) throw new HarnessError('GUEST_DOWN', `guest ${this.opts.machine.name} is not booted`);
    return this.ssh.exec(command, stdin, timeoutMs);
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
    if (this.qmp && !this.process.exitStatus) {
      await Promise.race([this.qmp.execute('quit').catch(() => undefined), sleep(QUIT_REPLY_MS, undefined, { ref: false })]);
    }
    const exit = this.qmp ? await Promise.race([this.process.exited, sleep(QUIT_EXIT_MS, undefined, { ref: false })]) : undefined;
    const final = exit ?? (await this.process.kill());
    this.qmp?.close();
    if (this.qmp)
      await writeFile(join(this.opts.dir, `${this.opts.machine.name}.qmp.log`), `${this.qmp.transcript.join('\n')}\n`, { mode: 0o600 });
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
