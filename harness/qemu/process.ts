import { existsSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import type { Readable } from 'node:stream';
import type { QemuBinary } from './binary.js';
import type { QemuExit } from '../errors.js';

export type { QemuExit };

/**
 * util-linux's setpriv makes the kernel kill QEMU when the process that started it dies, however it dies
 * (a vitest worker killed with SIGKILL included); execa's cleanup covers ordinary exits and signals.
 */
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];
const SETPRIV = SETPRIV_PATHS.find((p) => existsSync(p));
let warnedNoSetpriv = false;

/**
 * The words that tie QEMU's life to the harness's: setpriv's, or none when it is missing, which is said
 * once per process on stderr rather than silently.
 */
export function deathTie(setpriv: string | undefined, warn: (text: string) => void = (t) => void process.stderr.write(t)): string[] {
  if (setpriv) return [setpriv, '--pdeathsig', 'KILL'];
  if (!warnedNoSetpriv) {
    warnedNoSetpriv = true;
    warn(
      `nvdimm-harness: warning: util-linux's setpriv is not installed (looked for ${SETPRIV_PATHS.join(', ')}): QEMU is started ` +
        `untied, so it will not be killed if the harness is killed outright (SIGKILL, out of memory) until the next run's sweep. ` +
        `Install util-linux (sudo apt-get install util-linux; it is in every Debian).\n`,
    );
  }
  return [];
}

/**
 * One QEMU process. Its serial console is its stdout; its stderr is kept for the diagnosis when it exits
 * on its own.
 */
export class QemuProcess {
  readonly exited: Promise<QemuExit>;
  readonly commandLine: string;
  private stderrText = '';
  private readonly child: ResultPromise;
  private exit: QemuExit | undefined;

  /**
   * `outliveHarness`: QEMU is not tied to the harness's life, for guests that may be kept (--keep,
   * --keep-on-failure). Those not kept in the end are stopped by the harness, or, if it is killed outright,
   * by the next sweep of run directories (engine/janitor.ts), which finds them by their run directory.
   */
  constructor(qemu: QemuBinary, argv: string[], outliveHarness = false) {
    const args = [...qemu.prefix, ...argv];
    this.commandLine = shellCommand(qemu.command, args, qemu.env);
    const tie = outliveHarness ? [] : deathTie(SETPRIV);
    const [command, ...rest] = [...tie, qemu.command, ...args];
    this.child = execa(command!, rest, {
      env: qemu.env,
      stdin: 'pipe',
      buffer: false,
      reject: false,
      cleanup: !outliveHarness,
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

  /** How QEMU exited, once it has. */
  get exitStatus(): QemuExit | undefined {
    return this.exit;
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
  async kill(): Promise<QemuExit> {
    if (!this.exit) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** The command line as a user would paste it into a shell, for failure reports. */
export function shellCommand(command: string, args: string[], env: Record<string, string> = {}): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [...Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`), quote(command), ...args.map(quote)].join(' ');
}
