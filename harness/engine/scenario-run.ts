import { cp, mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { basename, dirname, join, resolve } from 'node:path';
import { HarnessError } from '../errors.js';
import type { LoadedScenario } from '../scenario/load.js';
import { backendsOf, plan, stepUnmet, type Plan, type PlannedMachine, type PlannedStep } from '../scenario/plan.js';
import { Guest, type GuestOptions, type Outcome } from '../guest/guest.js';
import { runKeyPair, type KeyPair } from '../guest/ssh.js';
import { shellCommand } from '../qemu/process.js';
import { archOfMachine } from '../arch.js';
import { versionIn } from '../qemu/versions.js';
import { setting } from '../settings.js';
import { bootTimeoutMs, type Environment } from './environment.js';
import { claimRunDir, createRunDir } from './janitor.js';
import { artifactFolderName, pruneArtifacts } from './artifacts.js';
import { fileContent, type FileContent } from './file-content.js';

/** Disk the kept backend files of a failed scenario may take (allocated blocks: the copies are sparse). */
const KEPT_BACKEND_BYTES = 256 * 2 ** 20;

/** A guest left running for a person to look at. */
export interface KeptGuest {
  name: string;
  pid: number;
  sshPort: number;
}

/**
 * One scenario being run: its plan, its private folder (backend files, sockets, logs), its guests, and the
 * cleanup that leaves nothing behind. Steps act on it through `boot`, `stop` and `guest`.
 */
export class ScenarioRun {
  private readonly guests = new Map<string, Guest>();
  /** Every guest launched, running or not, for the failure report. */
  readonly launched = new Map<string, Guest>();
  readonly keys: KeyPair = runKeyPair();
  private kept = false;

  private constructor(
    readonly plan: Plan,
    readonly env: Environment,
    readonly dir: string,
    /** Each file's content as the scenario found it, for `expect-file: { unchanged }`. */
    readonly initialContents: Record<string, FileContent>,
    /** Where the logs go if the scenario fails. */
    readonly artifactsDir: string,
    /**
     * Guests are started untied from the harness's life (--keep, --keep-on-failure), since which ones are kept
     * is known only at the end. Those not kept are stopped by `close`, or, if the harness is killed outright,
     * SIGKILLed by the next sweep of run directories (janitor.ts): only the guests `keep` hands over outlive it.
     */
    private readonly outliveHarness: boolean,
  ) {}

  static async open(loaded: LoadedScenario, env: Environment, artifactsRoot: string, outliveHarness = false): Promise<ScenarioRun> {
    // 0700 under the user's own 0700 parent, removed whole at close: nothing of the run outlives it unless
    // kept as artifacts.
    const dir = await createRunDir('run');
    try {
      const p = plan(loaded, dir, env.machine, env.qemu.version);
      // The loader refuses these; checked again over the whole plan, as the last word before QEMU.
      for (const b of backendsOf(p)) {
        if (b.share && b.file && !b.file.writable)
          throw new HarnessError('SCENARIO_INVALID', `${b.id} would let a guest write ${b.file.path}`);
      }
      for (const file of Object.values(p.files)) {
        if (file.existing) continue;
        // Sparse: a 1 GiB backend costs no disk until the guest writes to it.
        const handle = await open(file.path, 'wx', 0o600);
        await handle.truncate(file.size);
        await handle.close();
      }
      const contents: Record<string, FileContent> = {};
      for (const step of p.steps) {
        if (step.action === 'expect-file' && step.args.unchanged !== undefined && !(step.args.file.name in contents))
          contents[step.args.file.name] = await fileContent(step.args.file.path);
      }
      const artifacts = resolve(artifactsRoot, artifactFolderName(basename(loaded.file).replace(/\.ya?ml$/, ''), process.pid, Date.now()));
      return new ScenarioRun(p, env, dir, contents, artifacts, outliveHarness);
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Why the whole scenario does not apply here, if it does not. */
  skipReason(): string | undefined {
    const range = this.plan.scenario.qemu;
    if (!versionIn(this.env.qemu.version, range)) return `QEMU ${this.env.qemu.version} is outside this scenario's range ${range}`;
    const { machines, images, arches } = this.plan.scenario;
    const arch = this.env.image.arch;
    if (!arches.includes(arch)) return `this scenario is for ${arches.join(' and ')}, this run is for ${arch}`;
    if (images && !images.includes(this.env.image.name))
      return `this scenario is for image ${images.join(', ')}, this is ${this.env.image.name}`;
    const foreign = Object.values(this.plan.machines).find((m) => archOfMachine(m.type) !== arch);
    if (foreign) return `guest ${foreign.name} is a ${foreign.type} machine, which ${arch} does not have`;
    if (!machines.includes(this.env.machine))
      return `this scenario is for machine ${machines.join(' and ')}, this run is ${this.env.machine}`;
    return undefined;
  }

  /** Why a step does not apply here, if it does not. */
  stepSkipReason(step: PlannedStep): string | undefined {
    return stepUnmet(step, this.env.qemu.version, { image: this.env.image.name, machine: this.env.machine });
  }

  guest(machine: PlannedMachine): Guest {
    const g = this.guests.get(machine.name);
    if (!g)
      throw new HarnessError('GUEST_DOWN', `guest ${machine.name} is not running: add a \`boot: ${machine.name}\` step before this one`);
    return g;
  }

  isRunning(name: string): boolean {
    return this.guests.has(name);
  }

  private guestOptions(machine: PlannedMachine): GuestOptions {
    return {
      machine,
      qemu: this.env.qemu,
      kernel: this.env.image.kernel,
      initramfs: this.env.image.initramfs,
      accel: this.env.accel.accel,
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
  async boot(machines: PlannedMachine[], progress: (event: string) => void = () => {}): Promise<void> {
    for (const { name } of machines)
      if (this.guests.has(name)) throw new HarnessError('SCENARIO_INVALID', `guest ${name} is already running`);
    const results = await Promise.allSettled(
      machines.map(async (machine) => {
        const guest = await Guest.boot(this.guestOptions(machine), (g) => {
          this.launched.set(machine.name, g);
          progress(`${machine.name}: booting (QEMU pid ${g.process.pid}, SSH on 127.0.0.1:${g.sshPort})`);
        });
        this.guests.set(machine.name, guest);
        progress(`${machine.name}: SSH up after ${(guest.bootMs / 1000).toFixed(2)} s`);
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Starts a guest whose configuration QEMU should refuse. Resolves with QEMU's exit, or with what happened
   * instead if the guest came up or QEMU was still running at the deadline.
   */
  async startExpectingRefusal(machine: PlannedMachine): Promise<{ outcome: Outcome; guest: Guest }> {
    if (this.guests.has(machine.name)) throw new HarnessError('SCENARIO_INVALID', `guest ${machine.name} is already running`);
    const guest = await Guest.launch(this.guestOptions(machine));
    this.launched.set(machine.name, guest);
    try {
      return { outcome: await guest.outcome(bootTimeoutMs(this.env)), guest };
    } finally {
      await guest.stop();
    }
  }

  /** Quits QEMU and starts it again with the same configuration and files. */
  async restart(machine: PlannedMachine, progress?: (event: string) => void): Promise<void> {
    await this.stop([machine]);
    await this.boot([machine], progress);
  }

  async stop(machines: PlannedMachine[]): Promise<void> {
    await Promise.all(
      machines.map(async (machine) => {
        const guest = this.guest(machine);
        this.guests.delete(machine.name);
        await guest.stop();
      }),
    );
  }

  /**
   * Leaves the running guests up for a person to look at: the run's key and the guests' pinned host keys
   * are written into the run's folder, which the next run's sweep removes once every kept QEMU is gone.
   */
  async keep(): Promise<{ key: string; knownHosts: string; guests: KeptGuest[] }> {
    const running = [...this.guests.entries()];
    const key = join(this.dir, 'id_ed25519');
    const knownHosts = join(this.dir, 'known_hosts');
    if (running.length === 0) return { key, knownHosts, guests: [] };
    await writeFile(key, this.keys.private, { mode: 0o600 });
    await writeFile(knownHosts, running.map(([, g]) => `[127.0.0.1]:${g.sshPort} ssh-ed25519 ${g.hostKey}\n`).join(''), { mode: 0o600 });
    await claimRunDir(
      this.dir,
      running.map(([, g]) => g.process.pid!),
    );
    for (const [, g] of running) g.release();
    this.guests.clear();
    this.kept = true;
    return { key, knownHosts, guests: running.map(([name, g]) => ({ name, pid: g.process.pid!, sshPort: g.sshPort })) };
  }

  /**
   * The run's own backend files, copied sparse next to the logs while they fit in KEPT_BACKEND_BYTES of disk,
   * and each guest's command line against the copies (`<guest>.rerun`), so that it can really be run again.
   * A user's existing files are named as they are; nothing is copied of them.
   */
  private async keepBackends(kept: string): Promise<void> {
    const ours = Object.values(this.plan.files).filter((f) => !f.existing);
    let allocated = 0;
    let copied = 0;
    for (const file of ours) {
      const { blocks } = await stat(file.path).catch(() => ({ blocks: Infinity }));
      allocated += blocks * 512;
      if (allocated > KEPT_BACKEND_BYTES) break;
      await execa('cp', ['--sparse=always', file.path, join(kept, basename(file.path))]);
      copied++;
    }
    for (const [name, guest] of this.launched) {
      const note =
        copied === ours.length
          ? '# Against the backend files kept here, as the run left them.'
          : `# Some backend files were larger than ${KEPT_BACKEND_BYTES / 2 ** 20} MiB together and were not kept: make them again (the scenario gives their sizes) before running this.`;
      await writeFile(
        join(kept, `${name}.rerun`),
        `${note}\n${shellCommand('cd', [kept])} && ${guest.commandLine.split(this.dir).join(kept)}\n`,
        { mode: 0o600 },
      );
    }
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
      await this.keepBackends(kept);
      await pruneArtifacts(dirname(kept), setting('keepArtifacts'));
    }
    if (!this.kept) await rm(this.dir, { recursive: true, force: true });
    return kept;
  }
}
