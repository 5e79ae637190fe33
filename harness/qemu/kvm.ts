import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname, release } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../cache.js';
import type { Accel } from './argv.js';
import type { QemuBinary } from './binary.js';

export type AccelChoice = Accel | 'auto';

export interface AccelDecision {
  accel: Accel;
  /** Why, in words, for the run's header. */
  reason: string;
}

/**
 * Boots a guest under KVM with a short deadline and says whether it got as far as its init. `/dev/kvm`
 * existing is not enough: on some hosts KVM_CREATE_VM works and the guest then hangs in early boot.
 */
export type KvmProbe = () => Promise<boolean>;

export async function chooseAccel(choice: AccelChoice, qemu: QemuBinary, kernelVersion: string, probe: KvmProbe): Promise<AccelDecision> {
  if (choice !== 'auto') return { accel: choice, reason: `--accel ${choice}` };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is not usable, using TCG' };
  }
  const key = createHash('sha256')
    .update(JSON.stringify([qemu.origin, qemu.version, kernelVersion, hostname(), release()]))
    .digest('hex')
    .slice(0, 16);
  const file = join(cacheDir(), 'kvm-probe', `${key}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as { works: boolean };
    return verdict(cached.works, ' (cached probe)');
  }
  const works = await probe();
  await mkdir(join(cacheDir(), 'kvm-probe'), { recursive: true });
  await writeFile(file, JSON.stringify({ works, qemu: qemu.origin, kernelVersion, at: new Date().toISOString() }));
  return verdict(works, '');
}

function verdict(works: boolean, note: string): AccelDecision {
  return works
    ? { accel: 'kvm', reason: `KVM boots guests on this host${note}` }
    : { accel: 'tcg', reason: `/dev/kvm is present but a probe guest did not boot under KVM${note}: using TCG` };
}
