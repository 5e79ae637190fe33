import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../cache.js';
import type { Accel, AccelChoice } from '../settings.js';
import type { QemuBinary } from './binary.js';

export interface AccelDecision {
  accel: Accel;
  /** Why, in words, for the run's header. */
  reason: string;
}

/** Boots a guest under KVM with a short deadline; true if it got as far as its init. */
export type KvmProbe = () => Promise<boolean>;

interface Verdict {
  works: boolean;
  qemu: string;
  kernelVersion: string;
  at: string;
}

const VERDICTS = 'kvm-probe';

/**
 * KVM if asked for, or if a probe guest boots under it: `/dev/kvm` existing is not enough, since on some
 * hosts KVM_CREATE_VM works and the guest then hangs in early boot. The verdict is cached per QEMU, guest
 * kernel and host kernel.
 */
export async function chooseAccel(choice: AccelChoice, qemu: QemuBinary, kernelVersion: string, probe: KvmProbe): Promise<AccelDecision> {
  if (choice !== 'auto') return { accel: choice, reason: `--accel ${choice}` };
  // KVM runs guests of the host's own architecture only (an x86-64 host, as the README requires).
  if (qemu.arch !== 'amd64') return { accel: 'tcg', reason: `${qemu.arch} guests on an x86-64 host: using TCG` };
  if (!kvmDeviceUsable()) return { accel: 'tcg', reason: '/dev/kvm is not usable, using TCG' };
  const key = createHash('sha256')
    .update(JSON.stringify([qemu.origin, qemu.version, kernelVersion, hostname(), release()]))
    .digest('hex')
    .slice(0, 16);
  const file = cacheDir(VERDICTS, `${key}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Verdict;
    return verdict(cached.works, ' (cached probe)');
  }
  const works = await probe();
  await mkdir(cacheDir(VERDICTS), { recursive: true });
  // Written aside and renamed: a concurrent reader never sees half a verdict.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify({ works, qemu: qemu.origin, kernelVersion, at: new Date().toISOString() } satisfies Verdict));
  await rename(partial, file);
  return verdict(works, '');
}

export function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every cached probe verdict, for `doctor`. */
export function cachedVerdicts(): Verdict[] {
  const dir = cacheDir(VERDICTS);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Verdict);
}

function verdict(works: boolean, note: string): AccelDecision {
  return works
    ? { accel: 'kvm', reason: `KVM boots guests on this host${note}` }
    : { accel: 'tcg', reason: `/dev/kvm is present but a probe guest did not boot under KVM${note}: using TCG` };
}
