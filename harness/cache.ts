import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$NVDIMM_HARNESS_CACHE`, else `$XDG_CACHE_HOME/nvdimm-harness`, else `~/.cache/nvdimm-harness`. */
export function cacheDir(): string {
  if (process.env.NVDIMM_HARNESS_CACHE) return process.env.NVDIMM_HARNESS_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'nvdimm-harness');
}
