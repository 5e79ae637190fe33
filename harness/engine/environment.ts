import { rm } from 'node:fs/promises';
import { guestImage, type GuestImage } from '../images/build.js';
import { defaultImage } from '../images/recipe.js';
import { findQemu, type QemuBinary } from '../qemu/binary.js';
import { chooseAccel, type AccelDecision } from '../qemu/kvm.js';
import { Guest } from '../guest/guest.js';
import { runKeyPair } from '../guest/ssh.js';
import { EnvironmentError } from '../errors.js';
import { bothBuilt } from '../cache.js';
import type { OwnKernel } from '../images/own-kernel.js';
import { setting, SETTINGS, type MachineType } from '../settings.js';
import { createRunDir } from './janitor.js';
import { ARCHES, archOfMachine } from '../arch.js';

/** The QEMU, guest image, accelerator and machine type a scenario runs on. */
export interface Environment {
  qemu: QemuBinary;
  image: GuestImage;
  accel: AccelDecision;
  /** The machine type of guests that do not name one. */
  machine: MachineType;
}

/** How long a probe guest may take to reach its init under KVM; under TCG it takes about 2.5 s. */
const KVM_PROBE_MS = 15_000;

/**
 * Finds or provisions QEMU, builds or reuses the image, and decides on KVM, as the settings say;
 * everything is cached. `imageName` is the scenario's own image, which the settings' image does not override.
 */
export async function prepareEnvironment(imageName?: string, log: (line: string) => void = () => {}): Promise<Environment> {
  const arch = setting('arch');
  const machine = setting('machine');
  if (archOfMachine(machine) !== arch)
    throw new EnvironmentError(`machine type ${machine} is not one of ${arch}'s: ${ARCHES[arch].machines.join(', ')}`);
  const [image, qemu] = await bothBuilt(
    guestImage(imageName ?? setting('image') ?? defaultImage(arch), { log, kernel: ownKernelSetting() }),
    findQemu(setting('qemu'), log, arch),
  );
  if (image.arch !== arch)
    throw new EnvironmentError(
      `guest image ${image.name} is for ${image.arch}, this run is for ${arch}: choose --arch ${image.arch}, or an ${arch} image`,
    );
  const accel = await chooseAccel(setting('accel'), qemu, image.kernelVersion, () => probeKvm(qemu, image));
  return { qemu, image, accel, machine };
}

/** The kernel the settings name instead of the images' own, if any. */
export function ownKernelSetting(): OwnKernel | undefined {
  const path = setting('kernel');
  const modules = setting('modules');
  if (modules && !path)
    throw new EnvironmentError(`${SETTINGS.modules.env} (--modules) names the modules of a --kernel, and no kernel is given`);
  return path ? { path, modules } : undefined;
}

export function bootTimeoutMs(env: Environment): number {
  // TCG is several times slower, and two guests booting at once share the cores.
  return env.accel.accel === 'kvm' ? 30_000 : 90_000;
}

/** How long a hot-plugged device may take to appear in the guest (about 0.2 s under TCG when measured). */
export function hotplugTimeoutMs(env: Environment): number {
  return env.accel.accel === 'kvm' ? 10_000 : 30_000;
}

/** Boots the image under KVM without NVDIMMs: success is the guest's init printing its first marker. */
async function probeKvm(qemu: QemuBinary, image: GuestImage): Promise<boolean> {
  const dir = await createRunDir('kvm-probe');
  let guest: Guest | undefined;
  try {
    guest = await Guest.launch({
      machine: {
        name: 'kvm-probe',
        type: ARCHES[image.arch].machines[0],
        nvdimm: false,
        cpus: 1,
        memory: { ram: 256 * 2 ** 20 },
        devices: [],
        hotplugPorts: [],
      },
      qemu,
      kernel: image.kernel,
      initramfs: image.initramfs,
      accel: 'kvm',
      dir,
      keys: runKeyPair(),
      bootTimeoutMs: KVM_PROBE_MS,
    });
    return 'reached' in (await guest.outcome(KVM_PROBE_MS));
  } finally {
    await guest?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
