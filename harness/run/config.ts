import type { AccelChoice } from '../qemu/kvm.js';

/**
 * What a run is told from outside. The CLI sets these as environment variables so that vitest's workers,
 * which are separate processes, see the same choices as `npx vitest` run by hand.
 */
export interface RunConfig {
  /** A QEMU binary; else qemu-system-x86_64 on PATH, else bookworm's, fetched into the cache. */
  qemu?: string;
  /** Guest image name (images/NAME.json), unless a scenario names one. */
  image?: string;
  accel: AccelChoice;
  /** Where the logs of a failed scenario are kept. */
  artifacts: string;
  /** Leave the guests running after the run: never, always, or when a step failed. */
  keep: 'never' | 'always' | 'failure';
}

export const ENV = {
  qemu: 'NVDIMM_HARNESS_QEMU',
  image: 'NVDIMM_HARNESS_IMAGE',
  accel: 'NVDIMM_HARNESS_ACCEL',
  artifacts: 'NVDIMM_HARNESS_ARTIFACTS',
  keep: 'NVDIMM_HARNESS_KEEP',
} as const;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RunConfig {
  const accel = env[ENV.accel] ?? 'auto';
  if (accel !== 'auto' && accel !== 'kvm' && accel !== 'tcg') throw new Error(`${ENV.accel} must be auto, kvm or tcg, not "${accel}"`);
  const keep = env[ENV.keep] ?? 'never';
  if (keep !== 'never' && keep !== 'always' && keep !== 'failure')
    throw new Error(`${ENV.keep} must be never, always or failure, not "${keep}"`);
  return {
    keep,
    qemu: env[ENV.qemu] || undefined,
    image: env[ENV.image] || undefined,
    accel,
    artifacts: env[ENV.artifacts] || 'nvdimm-harness-artifacts',
  };
}
