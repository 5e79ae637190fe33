import { availableParallelism, totalmem } from 'node:os';

/** Environment variable (and `run --jobs`) bounding how many scenario files run at once. */
export const JOBS_ENV = 'NVDIMM_HARNESS_JOBS';

/** Memory a scenario file may take at once: two 512 MiB guests and QEMU's own, with room to spare. */
const MEMORY_PER_JOB = 2 * 2 ** 30;

/**
 * How many scenario files run in parallel: NVDIMM_HARNESS_JOBS if set, else one per core, and no more
 * than the memory holds. Each TCG guest keeps one core busy while it boots.
 */
export function jobs(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism(), memory = totalmem()): number {
  const set = env[JOBS_ENV];
  if (set !== undefined && set !== '') {
    const n = Number(set);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${JOBS_ENV} must be a whole number of at least 1, not "${set}"`);
    return n;
  }
  return Math.max(1, Math.min(cores, Math.floor(memory / MEMORY_PER_JOB)));
}
