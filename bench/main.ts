/**
 * `npm run bench` (bench/main.ts, outside the library so that importing the harness runs nothing): where the time goes, measured on this machine. Performance targets live here, never in
 * timed test assertions.
 *
 * - boot: start of QEMU to the first SSH command answered in the guest, N times through the harness, and
 *   N times with the raw baseline (the same QEMU command started from a shell, polling `ssh` until it answers);
 * - suite: the whole scenario suite on the default QEMU, wall time;
 * - image: the guest image built cold (empty cache, downloads included) and warm (cache hit).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { Guest } from '../harness/guest/guest.js';
import { runKeyPair } from '../harness/guest/ssh.js';
import { guestImage } from '../harness/images/build.js';
import { qemuArgv } from '../harness/qemu/argv.js';
import { shellCommand } from '../harness/qemu/process.js';
import { parseScenario } from '../harness/scenario/load.js';
import { plan, type PlannedMachine } from '../harness/scenario/plan.js';
import { prepareEnvironment, type Environment } from '../harness/engine/environment.js';
import { SETTINGS } from '../harness/settings.js';

const { values } = parseArgs({
  options: {
    boots: { type: 'string', default: '5' },
    suite: { type: 'boolean', default: true },
    image: { type: 'boolean', default: true },
    out: { type: 'string', default: 'bench/results.json' },
  },
  allowNegative: true,
});

const GIB = 2 ** 30;

/** The guest every boot is timed with: 512 MiB and one 1 GiB file-backed NVDIMM, its file in `dir`. */
function benchMachine(dir: string): PlannedMachine {
  const scenario = `
name: bench
files: { disk: { size: 1G } }
guests:
  bench: { memory: { ram: 512M, slots: 2, maxmem: 2G }, nvdimms: [{ id: nv1, backend: { file: disk } }] }
steps: [{ boot: bench }]
`;
  return plan(parseScenario(scenario, 'bench.yaml'), dir).machines.bench!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function harnessBoot(env: Environment, dir: string): Promise<number> {
  const started = Date.now();
  const guest = await Guest.boot({
    machine: benchMachine(dir),
    qemu: env.qemu,
    kernel: env.image.vmlinux,
    initramfs: env.image.initramfs,
    accel: env.accel.accel,
    dir,
    keys: runKeyPair(),
    bootTimeoutMs: 60_000,
  });
  await guest.exec('true');
  const ms = Date.now() - started;
  await guest.stop();
  return ms;
}

/** The same QEMU command from a shell, with `ssh` polled every 50 ms: the floor the harness must not add to. */
async function rawBoot(env: Environment, dir: string, port: number): Promise<number> {
  const keys = runKeyPair();
  const keyFile = join(dir, 'id');
  await writeFile(keyFile, keys.private, { mode: 0o600 });
  const argv = qemuArgv(benchMachine(dir), {
    kernel: env.image.vmlinux,
    initramfs: env.image.initramfs,
    append: [`nvh.authkey=${keys.publicBlob}`],
    accel: env.accel.accel,
    qmpSocket: join(dir, 'raw.qmp'),
    sshPort: port,
    firmware: env.qemu.firmware,
  }).map((a) => (a === 'stdio' ? 'null' : a));
  const qemu = shellCommand(env.qemu.command, [...env.qemu.prefix, ...argv], env.qemu.env);
  const ssh = `ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=1 -i ${keyFile} -p ${port} root@127.0.0.1 true`;
  const script = `${qemu} & pid=$!; until ${ssh}; do sleep 0.05; done; kill $pid; wait $pid`;
  const started = Date.now();
  await execa('bash', ['-c', script], { reject: false });
  return Date.now() - started;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { at: new Date().toISOString() };
  const env = await prepareEnvironment();
  results.qemu = env.qemu.version;
  results.accel = env.accel.accel;
  const n = Number(values.boots);
  const dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-bench-'));
  try {
    await execa('truncate', ['-s', String(GIB), join(dir, 'disk.img')]);
    const harness: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < n; i++) {
      harness.push(await harnessBoot(env, dir));
      raw.push(await rawBoot(env, dir, 20000 + (process.pid % 20000)));
      console.log(`boot ${i + 1}/${n}: harness ${harness.at(-1)} ms, raw ${raw.at(-1)} ms`);
    }
    results.boot = {
      harnessMs: harness,
      rawMs: raw,
      harnessMedianMs: median(harness),
      rawMedianMs: median(raw),
      ratio: +(median(harness) / median(raw)).toFixed(3),
    };
    console.log(
      `boot to first SSH command, median of ${n}: harness ${median(harness)} ms, raw ${median(raw)} ms, ratio ${(median(harness) / median(raw)).toFixed(3)}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  if (values.suite) {
    const started = Date.now();
    const r = await execa('npx', ['vitest', 'run', '--project', 'scenarios'], { reject: false, env: { FORCE_COLOR: '0', NO_COLOR: '1' } });
    const ms = Date.now() - started;
    results.suite = { wallMs: ms, passed: r.exitCode === 0, summary: /Tests\s+(.*)/.exec(r.stdout)?.[1] };
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
  await writeFile(values.out!, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`figures written to ${values.out}`);
}

await main();
