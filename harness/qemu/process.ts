import { execa, type ResultPromise } from 'execa';
import type { Readable } from 'node:stream';
import type { QemuBinary } from './binary.js';
import { shellCommand } from './argv.js';

export interface QemuExit {
  code: number | undefined;
  signal: string | undefined;
  stderr: string;
}

/**
 * One QEMU process. Its serial console is its stdout; its stderr is kept for the diagnosis when it exits
 * on its own. execa's cleanup kills it if the harness process exits.
 */
export class QemuProcess {
  readonly exited: Promise<QemuExit>;
  readonly commandLine: string;
  private stderrText = '';
  private readonly child: ResultPromise;
  private exit: QemuExit | undefined;

  constructor(qemu: QemuBinary, argv: string[]) {
    const args = [...qemu.prefix, ...argv];
    this.commandLine = shellCommand(qemu.command, args, qemu.env);
    this.child = execa(qemu.command, args, {
      env: qemu.env,
      stdin: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      forceKillAfterDelay: 2000,
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => (this.stderrText += s));
    this.exited = this.child.then((r) => {
      this.exit = { code: r.exitCode, signal: r.signal, stderr: this.stderrText.trim() };
      return this.exit;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stdout(): Readable {
    return this.child.stdout!;
  }

  get stderr(): string {
    return this.stderrText.trim();
  }

  get hasExited(): QemuExit | undefined {
    return this.exit;
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
  async kill(): Promise<QemuExit> {
    if (!this.exit) this.child.kill('SIGTERM');
    return this.exited;
  }
}
