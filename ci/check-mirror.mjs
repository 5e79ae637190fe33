#!/usr/bin/env node
// A workflow job's first check: the Debian mirror the harness will fetch QEMU and guest packages from, taken
// from NVDIMM_HARNESS_DEBIAN_MIRROR (the workflow sets it from the repository variable DEBIAN_MIRROR) or
// else from the runner's apt sources. Without one the job fails here, at once, saying what to set.
//
//   node ci/check-mirror.mjs [APT_ETC]      (default /etc/apt)
import { register } from 'tsx/esm/api';

register();
const { debianMirror } = await import('../harness/debian/mirror.ts');
try {
  console.log(`Debian mirror: ${debianMirror(process.argv[2])}`);
} catch (e) {
  console.error(
    `::error::No Debian mirror: set the repository variable DEBIAN_MIRROR (Settings > Secrets and variables > Actions > Variables) ` +
      `to a Debian archive such as http://mirror.example/debian; this runner's apt sources name none. (${e.message})`,
  );
  process.exitCode = 1;
}
