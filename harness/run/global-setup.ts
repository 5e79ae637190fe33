import { configFromEnv } from './config.js';
import { prepareEnvironment } from './environment.js';
import { sweepStaleRunDirs } from './janitor.js';

/**
 * Runs once before vitest's workers: provisions QEMU, builds the default image and probes KVM, so that the
 * workers find everything cached, and says what the run uses.
 */
export default async function setup(): Promise<() => Promise<void>> {
  sweepStaleRunDirs();
  const env = await prepareEnvironment(configFromEnv(), undefined, (line) => console.log(line));
  console.log(
    `nvdimm-harness: QEMU ${env.qemu.version} from ${env.qemu.origin}; image ${env.image.name} (kernel ${env.image.kernelVersion}); accelerator ${env.accel.accel}: ${env.accel.reason}`,
  );
  // After the run: whatever a killed worker left behind.
  return async () => {
    sweepStaleRunDirs();
  };
}
