import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { cacheDir } from '../cache.js';
import { findQemu, provisionedQemu, SUITES, suiteFor } from '../qemu/binary.js';

/** A suite's provisioned QEMU version, if it is in the cache. */
export function provisionedVersion(suite: string): string | undefined {
  const manifest = join(cacheDir(), 'qemu', suite, 'manifest.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
}

export function registerQemu(program: Command): void {
  const qemu = program.command('qemu').description('QEMU builds: the one on PATH, and Debian builds provisioned into the cache');
  qemu
    .command('list')
    .description('show the QEMU versions available and which are provisioned')
    .action(async () => {
      const onPath = await findQemu(undefined).catch(() => undefined);
      if (onPath && !onPath.origin.startsWith('Debian'))
        console.log(`PATH       ${onPath.version.padEnd(8)} ${onPath.origin} (the default)`);
      for (const { suite, version } of SUITES) {
        const have = provisionedVersion(suite);
        console.log(
          `${suite.padEnd(10)} ${version.padEnd(8)} ${have ? `provisioned: ${have} in ${join(cacheDir(), 'qemu', suite)}` : `not provisioned: nvdimm-harness qemu fetch ${version}`}`,
        );
      }
    });
  qemu
    .command('fetch')
    .description("provision a Debian suite's QEMU into the cache, without root")
    .argument('<version|suite>', `one of ${SUITES.map((s) => `${s.version} (${s.suite})`).join(', ')}`)
    .addHelpText('after', '\nExamples:\n  $ nvdimm-harness qemu fetch 10.0\n  $ nvdimm-harness qemu fetch bullseye')
    .action(async (name: string) => {
      const suite = suiteFor(name);
      if (!suite) {
        console.error(
          `unknown QEMU version or Debian suite "${name}": pick one of ${SUITES.map((s) => `${s.version}, ${s.suite}`).join('; ')}`,
        );
        process.exitCode = 2;
        return;
      }
      const q = await provisionedQemu(suite, (line) => console.error(line));
      console.log(`QEMU ${q.version} from Debian ${suite}: ${q.prefix.at(-1)}`);
    });
}
