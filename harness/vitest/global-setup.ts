import { prepareEnvironment } from '../engine/environment.js';
import { sweepStaleRunDirs } from '../engine/janitor.js';

/**
 * Runs once before vitest's workers: provisions QEMU, builds the default image and probes KVM, so that the
 * workers find everything cached, and says what the run uses.
 */
export default async function setup(): Promise<() => Promise<void>> {
  sweepStaleRunDirs();
  const env = await prepareEnvironment(undefined, (line) => console.error(line));
  console.error(
    `nvdimm-harness: QEMU ${env.qemu.version} from ${env.qemu.origin}; image ${env.image.name} (kernel ${env.image.kernelVersion}); machine ${env.machine}; accelerator ${env.accel.accel}: ${env.accel.reason}`,
  );
  // After the run: whatever a killed worker left behind.
  return async () => {
    sweepStaleRunDirs();
  };
}
