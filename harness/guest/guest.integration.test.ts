/**
 * Failures provoked for real: each boots (or starts) a real QEMU and checks that the failure arrives as a
 * diagnosis (QEMU's stderr, the serial lines around a panic), not as a bare timeout.
 */
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootTimeoutMs, prepareEnvironment, type Environment } from '../engine/environment.js';
import { HarnessError } from '../errors.js';
import type { PlannedMachine } from '../scenario/plan.js';
import { parseScenario } from '../scenario/load.js';
import { plan } from '../scenario/plan.js';
import { Guest, type GuestOptions } from './guest.js';
import { runKeyPair } from './ssh.js';

const MIB = 2 ** 20;
let env: Environment;
let dir: string;

beforeAll(async () => {
  env = await prepareEnvironment();
  dir = await mkdtemp(join(tmpdir(), 'nvdimm-harness-test-'));
  await writeFile(join(dir, 'disk.img'), '');
  await truncate(join(dir, 'disk.img'), 64 * MIB);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(name: string, machine: Partial<PlannedMachine> = {}, extra: Partial<GuestOptions> = {}): GuestOptions {
  // A 64 MiB NVDIMM on disk.img, planned as a scenario would plan it.
  const scenario = `
name: guest test
files: { disk: { size: 64M } }
guests: { g: { memory: { ram: 256M, slots: 2, maxmem: 1G }, nvdimms: [{ id: nv1, backend: { file: disk } }] } }
steps: [{ boot: g }]
`;
  const planned = plan(parseScenario(scenario, join(dir, 'guest.yaml')), dir).machines.g!;
  return {
    machine: { ...planned, name, ...machine },
    qemu: env.qemu,
    kernel: env.image.kernel,
    initramfs: env.image.initramfs,
    accel: env.accel.accel,
    dir,
    keys: runKeyPair(),
    bootTimeoutMs: bootTimeoutMs(env),
    ...extra,
  };
}

async function bootFailure(opts: GuestOptions): Promise<Error> {
  const error = await Guest.boot(opts).then(
    async (g) => {
      await g.stop();
      return new Error('the guest booted');
    },
    (e: Error) => e,
  );
  return error;
}

// Generous: TCG boots share the cores with the rest of the suite. The point is the kind of failure.
describe('a guest that cannot come up fails with a diagnosis', { timeout: 120_000 }, () => {
  it('QEMU refusing its configuration: its stderr and exit status', async () => {
    const e = await bootFailure(options('refused', { nvdimm: false }));
    expect((e as HarnessError).code).toBe('QEMU_REFUSED');
    expect(e.message).toMatch(/exited with status 1/);
    expect(e.message).toMatch(/nvdimm is not enabled: missing 'nvdimm' in '-M'/);
  });

  it('a kernel panic (a broken kernel command line): the serial lines around the panic', async () => {
    const e = await bootFailure(options('panic', {}, { append: ['rdinit=/does-not-exist', 'root=/dev/nonexistent'] }));
    expect((e as HarnessError).code).toBe('GUEST_DOWN');
    expect(e.message).toMatch(/failed during boot: .*Kernel panic - not syncing/);
    expect(e.message).toMatch(/--- serial console ---\n[\s\S]*Kernel panic/);
  });

  it('an init that exits: the kernel\'s "Attempted to kill init" and what led to it', async () => {
    const e = await bootFailure(options('init-exit', {}, { append: ['nvh.init-exit'] }));
    expect((e as HarnessError).code).toBe('GUEST_DOWN');
    expect(e.message).toMatch(/Attempted to kill init/);
    expect(e.message).toMatch(/NVH-INIT/);
  });

  it('QEMU killed during boot: the signal, at once', async () => {
    const guest = await Guest.launch(options('killed'));
    const ready = guest.ready();
    await guest.console.waitFor(/^NVH-INIT/);
    process.kill(guest.process.pid!, 'SIGKILL');
    const e = await ready.then(
      () => new Error('the guest booted'),
      (err: Error) => err,
    );
    await guest.stop();
    expect((e as HarnessError).code).toBe('QEMU_REFUSED');
    expect(e.message).toMatch(/exited with signal SIGKILL before the guest was up/);
    expect(e.message).toMatch(/NVH-INIT/);
  });

  it('sshd never answering within the deadline: the serial tail', async () => {
    const e = await bootFailure(options('slow', {}, { bootTimeoutMs: 300 }));
    expect((e as HarnessError).code).toBe('GUEST_DOWN');
    expect(e.message).toMatch(/did not bring up sshd within 0.3 s/);
    expect(e.message).toMatch(/--- serial console ---/);
  });
});
