import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import semver from 'semver';
import type { LoadedScenario } from '../scenario/load.js';
import type { Step } from '../scenario/schema.js';
import { Guest, type GuestOptions } from '../guest/guest.js';
import type { QemuExit } from '../qemu/process.js';
import { runKeyPair, type KeyPair } from '../guest/ssh.js';
import { bootTimeoutMs, type Environment } from './environment.js';
import { claimRunDir, RUN_DIR_PREFIX } from './janitor.js';

/**
 * One scenario being run: its private directory (backend files, sockets, logs), its guests, and the
 * cleanup that leaves nothing behind. Steps act on it through `boot`, `stop` and `guest`.
 */
export class ScenarioRun {
  private readonly guests = new Map<string, Guest>();
  /** Every guest launched, running or not, for the failure report. */
  private readonly launched = new Map<string, Guest>();
  private readonly keys: KeyPair = runKeyPair();
  private kept = false;

  private constructor(
    readonly loaded: LoadedScenario,
    readonly env: Environment,
    readonly dir: string,
    private readonly cleanupDir: () => Promise<void>,
    readonly files: Record<string, string>,
    readonly fileSizes: Record<string, number>,
    /** SHA-256 of each file as the scenario found it, for `expect-file: { unchanged: true }`. */
    readonly initialChecksums: Record<string, string>,
    /** Where the logs go if the scenario fails. */
    readonly artifactsDir: string,
    /** Guests may be kept running after the harness exits (--keep). */
    private readonly outliveHarness: boolean,
  ) {}

  static async open(loaded: LoadedScenario, env: Environment, artifactsRoot: string, outliveHarness = false): Promise<ScenarioRun> {
    // 0700, removed whole at close: nothing of the run outlives it unless kept as artifacts.
    const tmp = await tmpDir({ prefix: RUN_DIR_PREFIX, mode: 0o700, unsafeCleanup: true });
    try {
      await claimRunDir(tmp.path);
      const files: Record<string, string> = {};
      const sizes: Record<string, number> = {};
      for (const [name, spec] of Object.entries(loaded.scenario.files)) {
        if (spec.path !== undefined) {
          files[name] = resolve(dirname(loaded.file), spec.path);
          sizes[name] = (await stat(files[name]!)).size;
        } else {
          files[name] = join(tmp.path, `${name}.img`);
          sizes[name] = spec.size!;
          // Sparse: a 1 GiB backend costs no disk until the guest writes to it.
          const handle = await open(files[name]!, 'wx', 0o600);
          await handle.truncate(spec.size!);
          await handle.close();
        }
      }
      const checksums: Record<string, string> = {};
      for (const step of loaded.scenario.steps) {
        const f = step['expect-file'];
        if (f?.unchanged && !(f.file in checksums)) checksums[f.file] = await fileSha256(files[f.file]!);
      }
      const artifacts = resolve(artifactsRoot, `${basename(loaded.file).replace(/\.ya?ml$/, '')}-${process.pid}-${Date.now()}`);
      return new ScenarioRun(loaded, env, tmp.path, tmp.cleanup, files, sizes, checksums, artifacts, outliveHarness);
    } catch (e) {
      await tmp.cleanup();
      throw e;
    }
  }

  /** Why the whole scenario does not apply here, if it does not. */
  skipReason(): string | undefined {
    const range = this.loaded.scenario.qemu;
    if (!semver.satisfies(this.env.qemu.version, range)) return `QEMU ${this.env.qemu.version} is outside this scenario's range ${range}`;
    return undefined;
  }

  /** Why a step does not apply here, if it does not. */
  stepSkipReason(step: Step): string | undefined {
    const when = step.when;
    if (when?.qemu && !semver.satisfies(this.env.qemu.version, when.qemu))
      return `only for QEMU ${when.qemu}, this is ${this.env.qemu.version}`;
    if (when?.image && when.image !== this.env.image.name) return `only for image ${when.image}, this is ${this.env.image.name}`;
    return undefined;
  }

  guest(name: string): Guest {
    const g = this.guests.get(name);
    if (!g) throw new Error(`guest ${name} is not running: add a \`boot: ${name}\` step before this one`);
    return g;
  }

  private guestOptions(name: string): GuestOptions {
    return {
      name,
      spec: this.loaded.scenario.guests[name]!,
      qemu: this.env.qemu,
      kernel: this.env.image.vmlinux,
      initramfs: this.env.image.initramfs,
      accel: this.env.accel.accel,
      files: this.files,
      fileSizes: this.fileSizes,
      dir: this.dir,
      keys: this.keys,
      bootTimeoutMs: bootTimeoutMs(this.env),
      outliveHarness: this.outliveHarness,
    };
  }

  /**
   * Boots the guests in parallel; the first failure is thrown, and `close` stops the others. `progress`
   * hears of each QEMU started and each guest answering SSH.
   */
  async boot(names: string[], progress: (event: string) => void = () => {}): Promise<void> {
    for (const name of names) if (this.guests.has(name)) throw new Error(`guest ${name} is already running`);
    const results = await Promise.allSettled(
      names.map(async (name) => {
        const guest = await Guest.boot(this.guestOptions(name), (g) => {
          this.launched.set(name, g);
          progress(`${name}: booting (QEMU pid ${g.process.pid}, SSH on 127.0.0.1:${g.sshPort})`);
        });
        this.guests.set(name, guest);
        progress(`${name}: SSH up after ${(guest.bootMs / 1000).toFixed(2)} s`);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Starts a guest whose configuration QEMU should refuse. Resolves with QEMU's exit; throws, saying what
   * happened instead, if the guest boots or QEMU is still running at the deadline.
   */
  async startExpectingRefusal(name: string): Promise<QemuExit> {
    if (this.guests.has(name)) throw new Error(`guest ${name} is already running`);
    const guest = await Guest.launch(this.guestOptions(name));
    this.launched.set(name, guest);
    try {
      const outcome = await guest.outcome(bootTimeoutMs(this.env));
      if ('exit' in outcome) return outcome.exit;
      const what =
        'booted' in outcome
          ? 'QEMU accepted the configuration and the guest booted'
          : 'fatal' in outcome
            ? `the guest started and failed: ${outcome.fatal}`
            : 'QEMU neither refused nor booted the guest in time';
      throw new Error(`${what}\nQEMU command line: ${guest.commandLine}\n--- serial console ---\n${guest.console.excerpt()}`);
    } finally {
      await guest.stop();
    }
  }

  async reboot(name: string): Promise<void> {
    await this.guest(name).reboot();
  }

  /** Quits QEMU and starts it again with the same configuration and files. */
  async restart(name: string, progress?: (event: string) => void): Promise<void> {
    await this.stop([name]);
    await this.boot([name], progress);
  }

  async stop(names: string[]): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const guest = this.guest(name);
        this.guests.delete(name);
        await guest.stop();
      }),
    );
  }

  filePath(name: string): string {
    return this.files[name]!;
  }

  /**
   * What a developer needs next to a failed check: where it ran, how to start each guest by hand, what
   * each guest's console said last, and where the logs are kept.
   */
  explain(): string {
    const { qemu, image, accel } = this.env;
    const lines = [
      '',
      `--- ${this.loaded.file}: QEMU ${qemu.version} (${qemu.origin}), image ${image.name} (kernel ${image.kernelVersion}), ${accel.accel} ---`,
    ];
    for (const [name, guest] of this.launched) {
      lines.push(
        `guest ${name} (${this.guests.has(name) ? 'running' : 'not running'}); QEMU command line:`,
        `  ${guest.commandLine}`,
        `last lines of ${name}'s serial console:`,
        ...guest.console
          .excerpt(undefined, 12)
          .split('\n')
          .map((l) => `  | ${l}`),
      );
    }
    lines.push(`serial logs, QEMU command lines and QMP transcripts are kept in ${this.artifactsDir}`);
    return lines.join('\n');
  }

  /**
   * Leaves the running guests up for a person to look at: the run's key, the guests' pinned host keys and
   * how to connect and stop them are written into the run's folder, which is removed (by the next run's
   * sweep) once every kept QEMU is gone. Returns the instructions.
   */
  async keepRunning(): Promise<string> {
    const guests = [...this.guests.entries()];
    if (guests.length === 0) return `${this.loaded.file}: no guest was running to keep`;
    const key = join(this.dir, 'id_ed25519');
    const knownHosts = join(this.dir, 'known_hosts');
    await writeFile(key, this.keys.private, { mode: 0o600 });
    await writeFile(knownHosts, guests.map(([, g]) => `[127.0.0.1]:${g.sshPort} ssh-ed25519 ${g.hostKey}\n`).join(''), { mode: 0o600 });
    await claimRunDir(
      this.dir,
      guests.map(([, g]) => g.process.pid!),
    );
    for (const [, g] of guests) g.release();
    this.guests.clear();
    this.kept = true;
    const lines = [`${this.loaded.file}: guests kept running (files in ${this.dir}):`];
    for (const [name, g] of guests) {
      lines.push(`  ${name}: ssh -i ${key} -o UserKnownHostsFile=${knownHosts} -p ${g.sshPort} root@127.0.0.1`);
      lines.push(`  ${name}: QMP socket ${join(this.dir, `${name}.qmp`)}, serial log ${join(this.dir, `${name}.serial.log`)}`);
    }
    lines.push(`  stop them with: kill ${guests.map(([, g]) => g.process.pid).join(' ')} (their folder goes at the next run)`);
    return lines.join('\n');
  }

  /** Stops every guest and removes the run's directory; after a failure its logs are kept first. */
  async close(failed: boolean): Promise<string | undefined> {
    await Promise.allSettled([...this.guests.values()].map((g) => g.stop()));
    this.guests.clear();
    let kept: string | undefined;
    if (failed) {
      kept = this.artifactsDir;
      await mkdir(kept, { recursive: true });
      // Logs, command lines and QMP transcripts: not the backend files, which may be large, nor sockets.
      await cp(this.dir, kept, { recursive: true, filter: (src) => src === this.dir || /\.(log|cmdline)$/.test(src) });
    }
    if (!this.kept) {
      await this.cleanupDir();
      await rm(this.dir, { recursive: true, force: true });
    }
    return kept;
  }
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
