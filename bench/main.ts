/**
 * `npm run bench` (bench/main.ts, outside the library so that importing the harness runs nothing): where the time goes, measured on this machine. Performance targets live here, never in
 * timed test assertions.
 *
 * - boot, N times each, interleaved so that the machine's drift hits all three alike, in the six orders of the
 *   three kinds in turn (N a multiple of 6 balances them: each kind as often first, second and third, and right
 *   after each other kind, in case a boot's time here depends on what ran just before it);
 *   - floor: the harness's QEMU command line started directly, until the guest prints `NVH-READY` (sshd
 *     listens) on its serial console: no SSH at all, the least any harness could take;
 *   - harness: `Guest.boot` until the first SSH command has answered, split into its phases (spawn, console
 *     wait, SSH + QMP connect, first exec), and then a later command's round trip. Its own time is what it
 *     takes beyond the guest's boot: its spawn beyond the floor's (which starts QEMU too), connect and first
 *     exec;
 *   - raw: the same command from a shell polling `ssh` every 50 ms, as a script would do it;
 * - two guests booted at once through the harness, until both answered; one NVDIMM hot-plugged over QMP until
 *   the guest lists it;
 * - suite: the whole scenario suite on the default QEMU (`nvdimm-harness run`), wall time;
 * - image: the guest image built cold (empty cache, downloads included) and warm (cache hit).
 *
 * `--candidate SPEC` (repeatable) measures boot-time candidates instead, one at a time against the harness's own
 * command line: floors only, interleaved, with QEMU's CPU time (what bounds a 2-core machine's suite). SPEC is
 * `append=WORDS` (kernel command line), `cpu=MODEL`, `bios=FILE`, `ram=SIZE`, `image=NAME` (another image's
 * kernel and initramfs, e.g. a recipe with another Debian kernel flavour) or `initramfs=FILE` (the default
 * image's kernel with a changed initramfs, to time an image change before the builder makes it), several
 * joined with `;`.
 * Figures go to bench/candidates.json.
 *
 * `--arch arm64` times arm64 guests (qemu-system-aarch64 under TCG, `virt`, UEFI) instead: figures go to
 * bench/results-arm64.json.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Guest, type GuestOptions } from '../harness/guest/guest.js';
import { NDCTL_LIST, parseNdctlList } from '../harness/guest/ndctl.js';
import { runKeyPair } from '../harness/guest/ssh.js';
import { guestImage } from '../harness/images/build.js';
import { qemuArgv, type Launch } from '../harness/qemu/argv.js';
import { hotplug } from '../harness/qemu/hotplug.js';
import { shellCommand } from '../harness/qemu/process.js';
import { parseScenario } from '../harness/scenario/load.js';
import { plan, type Plan } from '../harness/scenario/plan.js';
import { parseSize } from '../harness/scenario/units.js';
import { prepareEnvironment, type Environment } from '../harness/engine/environment.js';
import { SETTINGS } from '../harness/settings.js';

const { values } = parseArgs({
  options: {
    boots: { type: 'string', default: '6' },
    suite: { type: 'boolean', default: true },
    image: { type: 'boolean', default: true },
    extras: { type: 'boolean', default: true },
    candidate: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    arch: { type: 'string' },
  },
  allowNegative: true,
});

const BOOT_TIMEOUT_MS = 60_000;

/** A change to the harness's QEMU command line, to time against it. */
interface Candidate {
  spec: string;
  append: string[];
  cpu?: string;
  bios?: string;
  ram?: number;
  image?: string;
  initramfs?: string;
}

function parseCandidate(spec: string): Candidate {
  const c: Candidate = { spec, append: [] };
  for (const part of spec.split(';').filter(Boolean)) {
    const [key, value = ''] = part.split(/=(.*)/s) as [string, string?];
    if (key === 'append') c.append.push(...value.split(/\s+/).filter(Boolean));
    else if (key === 'cpu') c.cpu = value;
    else if (key === 'bios') c.bios = value;
    else if (key === 'ram') c.ram = parseSize(value);
    else if (key === 'image') c.image = value;
    else if (key === 'initramfs') c.initramfs = value;
    else throw new Error(`--candidate ${spec}: expected append=, cpu=, bios=, ram=, image= or initramfs=, not "${key}"`);
  }
  return c;
}

const BASELINE: Candidate = { spec: 'the harness', append: [] };

/** The guests every boot is timed with: one 1 GiB file-backed NVDIMM each, files in `dir`, and a slot for a hotplug. */
function benchPlan(dir: string, env: Environment): Plan {
  const scenario = `
name: bench
files: { a: { size: 1G }, b: { size: 1G }, c: { size: 1G } }
guests:
  one: { memory: { ram: 512M, slots: 2, maxmem: 4G }, nvdimms: [{ id: nv1, backend: { file: a } }] }
  two: { memory: { ram: 512M, slots: 2, maxmem: 4G }, nvdimms: [{ id: nv1, backend: { file: b } }] }
steps:
  - boot: [one, two]
  - hotplug: { guest: one, id: nv2, backend: { file: c } }
`;
  return plan(parseScenario(scenario, 'bench.yaml'), dir, env.machine, env.qemu.version);
}

/**
 * The six orders of floor (0), harness (1) and raw (2), one per round in turn: over six rounds each kind boots
 * as often first, second and third, and right after each other kind, so that neither position nor predecessor
 * favours one. (A plain rotation put the harness right after the floor in two rounds of three.)
 */
const ORDERS = [
  [0, 1, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
  [1, 0, 2],
  [0, 2, 1],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (xs: number[]) => ({ medianMs: median(xs), minMs: Math.min(...xs), maxMs: Math.max(...xs), runsMs: xs });

function guestOptions(env: Environment, p: Plan, name: string, dir: string): GuestOptions {
  return {
    machine: p.machines[name]!,
    qemu: env.qemu,
    kernel: env.image.kernel,
    initramfs: env.image.initramfs,
    accel: env.accel.accel,
    dir,
    keys: runKeyPair(),
    bootTimeoutMs: BOOT_TIMEOUT_MS,
  };
}

/** How the harness would start the bench guest, for the boots that start QEMU themselves. */
function launch(env: Environment, qmpSocket: string, sshPort: number, append: string[]): Launch {
  return {
    kernel: env.image.kernel,
    initramfs: env.image.initramfs,
    append,
    accel: env.accel.accel,
    qmpSocket,
    sshPort,
    firmware: env.qemu.firmware,
    ...(env.qemu.bios ? { bios: env.qemu.bios } : {}),
  };
}

/**
 * The harness's own QEMU command line (changed as the candidate says), started directly, until `NVH-READY` is
 * on its serial console; with the CPU time QEMU used until then.
 */
async function floorBoot(
  env: Environment,
  p: Plan,
  dir: string,
  port: number,
  c = BASELINE,
): Promise<{ ms: number; cpuMs: number; spawnMs: number }> {
  const machine = c.ram === undefined ? p.machines.one! : { ...p.machines.one!, memory: { ...p.machines.one!.memory, ram: c.ram } };
  const built = c.image ? await guestImage(c.image) : env.image;
  const image = c.initramfs ? { ...built, initramfs: c.initramfs } : built;
  const argv = qemuArgv(
    machine,
    launch({ ...env, image }, join(dir, 'floor.qmp'), port, [`nvh.authkey=${runKeyPair().publicBlob}`, ...c.append]),
  );
  if (c.cpu) argv[argv.indexOf('-cpu') + 1] = c.cpu;
  if (c.bios) argv.push('-bios', c.bios);
  const started = Date.now();
  const qemu = execa(env.qemu.command, [...env.qemu.prefix, ...argv], { env: env.qemu.env, reject: false, buffer: false });
  const spawnMs = Date.now() - started;
  let console = '';
  let cpuMs = 0;
  await new Promise<void>((resolve, reject) => {
    qemu.stdout!.setEncoding('utf8');
    qemu.stdout!.on('data', (chunk: string) => {
      if (/^NVH-READY/m.test(console)) return;
      console += chunk;
      if (!/^NVH-READY/m.test(console)) return;
      cpuMs = processCpuMs(qemu.pid!);
      resolve();
    });
    void qemu.then((r) => reject(new Error(`QEMU exited before NVH-READY: ${r.stderr ?? ''}\n${console}`)));
  });
  const ms = Date.now() - started;
  qemu.kill('SIGKILL');
  await qemu;
  return { ms, cpuMs, spawnMs };
}

/** User and system CPU time of a running process, from /proc (clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface HarnessBoot {
  totalMs: number;
  spawnMs: number;
  consoleMs: number;
  /** QEMU's CPU time when `NVH-READY` came: the guest's own boot, as the floor's `cpuMs`. */
  consoleCpuMs: number;
  connectMs: number;
  execMs: number;
  /** A later command's round trip (median of COMMAND_ROUNDS `true`s): what every guest step pays on top of its work. */
  commandMs: number;
}

const COMMAND_ROUNDS = 5;

async function harnessBoot(env: Environment, p: Plan, dir: string): Promise<HarnessBoot> {
  // The key pair is made before the clock starts, as the floor's is: a run makes one for all its guests.
  const opts = guestOptions(env, p, 'one', dir);
  const started = Date.now();
  const guest = await Guest.launch(opts);
  const spawnMs = Date.now() - started;
  let consoleCpuMs = 0;
  void guest.console.waitFor(/^NVH-READY/).then(() => (consoleCpuMs = processCpuMs(guest.process.pid!)));
  try {
    await guest.ready();
    const execStarted = Date.now();
    await guest.exec('true');
    const end = Date.now();
    const commands: number[] = [];
    for (let i = 0; i < COMMAND_ROUNDS; i++) {
      const t = Date.now();
      await guest.exec('true');
      commands.push(Date.now() - t);
    }
    return { totalMs: end - started, spawnMs, ...guest.bootPhases, consoleCpuMs, execMs: end - execStarted, commandMs: median(commands) };
  } finally {
    await guest.stop();
  }
}

/** The same QEMU command from a shell, with `ssh` polled every 50 ms, as a script would do it. */
async function rawBoot(env: Environment, p: Plan, dir: string, port: number): Promise<number> {
  const keys = runKeyPair();
  const keyFile = join(dir, 'id');
  await writeFile(keyFile, keys.private, { mode: 0o600 });
  const argv = qemuArgv(p.machines.one!, launch(env, join(dir, 'raw.qmp'), port, [`nvh.authkey=${keys.publicBlob}`])).map((a) =>
    a === 'stdio' ? 'null' : a,
  );
  const qemu = shellCommand(env.qemu.command, [...env.qemu.prefix, ...argv], env.qemu.env);
  const ssh = `ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=1 -i ${keyFile} -p ${port} root@127.0.0.1 true`;
  const script = `${qemu} & pid=$!; until ${ssh}; do sleep 0.05; done; kill $pid; wait $pid`;
  const started = Date.now();
  await execa('bash', ['-c', script], { reject: false });
  return Date.now() - started;
}

/** Two guests booted at once, as a two-guest scenario's `boot` does, until both have answered. */
async function twoGuestBoot(env: Environment, p: Plan, dir: string): Promise<number> {
  const started = Date.now();
  const guests = await Promise.allSettled(['one', 'two'].map((name) => Guest.boot(guestOptions(env, p, name, dir))));
  try {
    for (const g of guests) if (g.status === 'fulfilled') await g.value.exec('true');
    for (const g of guests) if (g.status === 'rejected') throw g.reason;
    return Date.now() - started;
  } finally {
    for (const g of guests) if (g.status === 'fulfilled') await g.value.stop();
  }
}

/** One NVDIMM hot-plugged over QMP into a booted guest: QEMU's answer, then the guest listing one more DIMM. */
async function hotplugOnce(env: Environment, p: Plan, dir: string): Promise<{ qmpMs: number; seenMs: number }> {
  const step = p.steps[1]!;
  if (step.action !== 'hotplug') throw new Error("the bench plan's second step is its hotplug");
  const guest = await Guest.boot(guestOptions(env, p, 'one', dir));
  const dimms = async () => parseNdctlList((await guest.exec(NDCTL_LIST)).stdout).dimms.length;
  try {
    const before = await dimms();
    const started = Date.now();
    await hotplug(guest.qmp!, env.qemu.version, step.args.device, 'qmp');
    const qmpMs = Date.now() - started;
    // Polled as the hotplug step polls it, with a deadline.
    while ((await dimms()) === before) {
      if (Date.now() - started > BOOT_TIMEOUT_MS) throw new Error('the hot-plugged NVDIMM never appeared');
      await sleep(20);
    }
    return { qmpMs, seenMs: Date.now() - started };
  } finally {
    await guest.stop();
  }
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { at: new Date().toISOString() };
  if (values.arch) process.env[SETTINGS.arch.env] = SETTINGS.arch.parse(values.arch);
  const env = await prepareEnvironment();
  results.arch = env.image.arch;
  results.qemu = env.qemu.version;
  results.accel = env.accel.accel;
  const n = Number(values.boots);
  if (values.candidate!.length > 0) return compareCandidates(env, n, results, values.out ?? 'bench/candidates.json');
  const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-bench-'));
  try {
    const p = benchPlan(dir, env);
    for (const f of Object.values(p.files)) await execa('truncate', ['-s', String(f.size), f.path]);
    const port = 20000 + (process.pid % 20000);
    const floor: number[] = [];
    const floorCpu: number[] = [];
    const floorSpawn: number[] = [];
    const harness: HarnessBoot[] = [];
    const raw: number[] = [];
    const kinds = [
      async () => {
        const f = await floorBoot(env, p, dir, port);
        floor.push(f.ms);
        floorCpu.push(f.cpuMs);
        floorSpawn.push(f.spawnMs);
      },
      async () => void harness.push(await harnessBoot(env, p, dir)),
      async () => void raw.push(await rawBoot(env, p, dir, port)),
    ];
    for (let i = 0; i < n; i++) {
      for (const k of ORDERS[i % ORDERS.length]!) await kinds[k]!();
      console.log(`boot ${i + 1}/${n}: floor ${floor.at(-1)} ms, harness ${harness.at(-1)!.totalMs} ms, raw ${raw.at(-1)} ms`);
    }
    const phase = (k: keyof HarnessBoot) => median(harness.map((h) => h[k]));
    const overhead = median(harness.map((h) => h.totalMs)) - median(floor);
    const own = harness.map((h) => h.spawnMs - median(floorSpawn) + h.connectMs + h.execMs);
    results.boot = {
      floor: { ...summary(floor), qemuCpu: summary(floorCpu), spawnMedianMs: median(floorSpawn) },
      harness: {
        ...summary(harness.map((h) => h.totalMs)),
        phasesMedianMs: { spawn: phase('spawnMs'), console: phase('consoleMs'), connect: phase('connectMs'), exec: phase('execMs') },
        consoleQemuCpu: summary(harness.map((h) => h.consoleCpuMs)),
        commandMs: phase('commandMs'),
      },
      raw: summary(raw),
      harnessOverFloorMs: overhead,
      harnessOverFloorRatio: +(median(harness.map((h) => h.totalMs)) / median(floor)).toFixed(3),
      harnessOwn: summary(own),
    };
    console.log(
      `boot, median of ${n}: floor ${median(floor)} ms (QEMU CPU ${median(floorCpu)} ms, spawn ${median(floorSpawn)} ms), harness ${median(harness.map((h) => h.totalMs))} ms (+${overhead} ms; spawn ${phase('spawnMs')}, console ${phase('consoleMs')} (QEMU CPU ${phase('consoleCpuMs')} ms), connect ${phase('connectMs')}, exec ${phase('execMs')}; its own time ${median(own)} ms; a later command ${phase('commandMs')} ms), raw ${median(raw)} ms`,
    );
    if (values.extras) {
      const two: number[] = [];
      const plugs: { qmpMs: number; seenMs: number }[] = [];
      for (let i = 0; i < n; i++) {
        two.push(await twoGuestBoot(env, p, dir));
        plugs.push(await hotplugOnce(env, p, dir));
      }
      results.twoGuests = summary(two);
      results.hotplug = { qmp: summary(plugs.map((h) => h.qmpMs)), seen: summary(plugs.map((h) => h.seenMs)) };
      console.log(
        `two guests at once, median of ${n}: ${median(two)} ms; one NVDIMM hot-plugged until the guest lists it: ${median(plugs.map((h) => h.seenMs))} ms`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  if (values.suite) {
    const started = Date.now();
    // As a user runs it: `nvdimm-harness run`, every file of scenarios/.
    const r = await execa('node', ['bin/nvdimm-harness.js', 'run'], { reject: false, all: true, env: { FORCE_COLOR: '0', NO_COLOR: '1' } });
    const ms = Date.now() - started;
    results.suite = { wallMs: ms, passed: r.exitCode === 0, summary: /Tests\s+(.*)/.exec(r.all)?.[1] };
    console.log(`scenario suite on QEMU ${env.qemu.version}: ${(ms / 1000).toFixed(1)} s wall (${r.exitCode === 0 ? 'passed' : 'FAILED'})`);
  }

  if (values.image) {
    const cache = await mkdtemp(join(tmpdir(), 'nvdimm-harness-bench-cache-'));
    const saved = process.env[SETTINGS.cache.env];
    process.env[SETTINGS.cache.env] = cache;
    try {
      let started = Date.now();
      await guestImage(env.image.name);
      const cold = Date.now() - started;
      started = Date.now();
      await guestImage(env.image.name);
      const warm = Date.now() - started;
      results.image = { coldMs: cold, warmMs: warm };
      console.log(`image ${env.image.name}: cold ${(cold / 1000).toFixed(1)} s (downloads included), warm ${warm} ms`);
    } finally {
      if (saved === undefined) delete process.env[SETTINGS.cache.env];
      else process.env[SETTINGS.cache.env] = saved;
      await rm(cache, { recursive: true, force: true });
    }
  }
  const out = values.out ?? (env.image.arch === 'amd64' ? 'bench/results.json' : `bench/results-${env.image.arch}.json`);
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${out}`);
}

/** Each candidate's floor against the harness's own, interleaved round by round so that drift hits all alike. */
async function compareCandidates(env: Environment, n: number, results: Record<string, unknown>, out: string): Promise<void> {
  const candidates = [BASELINE, ...values.candidate!.map(parseCandidate)];
  const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-bench-'));
  const runs = candidates.map(() => ({ ms: [] as number[], cpuMs: [] as number[] }));
  try {
    const p = benchPlan(dir, env);
    for (const f of Object.values(p.files)) await execa('truncate', ['-s', String(f.size), f.path]);
    const port = 20000 + (process.pid % 20000);
    for (let i = 0; i < n; i++) {
      for (const [k, c] of candidates.entries()) {
        const f = await floorBoot(env, p, dir, port, c);
        runs[k]!.ms.push(f.ms);
        runs[k]!.cpuMs.push(f.cpuMs);
      }
      console.log(`round ${i + 1}/${n}: ${candidates.map((c, k) => `${c.spec} ${runs[k]!.ms.at(-1)} ms`).join(', ')}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const base = median(runs[0]!.ms);
  results.candidates = candidates.map((c, k) => ({
    spec: c.spec,
    floor: summary(runs[k]!.ms),
    qemuCpu: summary(runs[k]!.cpuMs),
    gainMs: base - median(runs[k]!.ms),
    // In how many rounds the candidate beat the harness's line booted just before it.
    fasterRounds: runs[k]!.ms.filter((ms, i) => ms < runs[0]!.ms[i]!).length,
  }));
  for (const r of results.candidates as {
    spec: string;
    floor: { medianMs: number };
    qemuCpu: { medianMs: number };
    gainMs: number;
    fasterRounds: number;
  }[])
    console.log(
      `${r.spec}: floor median ${r.floor.medianMs} ms, QEMU CPU ${r.qemuCpu.medianMs} ms, gain ${r.gainMs} ms, faster in ${r.fasterRounds}/${n} rounds`,
    );
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${out}`);
}

await main();
