import type { Command } from 'commander';
import { findQemu, provisionedQemu, provisionedRoot, provisionedVersion } from '../qemu/binary.js';
import { buildFor, capabilitiesOf, QEMU_BUILDS } from '../qemu/versions.js';

export function registerQemu(program: Command): void {
  const qemu = program.command('qemu').description('QEMU builds: the one on PATH, and Debian builds provisioned into the cache');
  qemu
    .command('list')
    .description('show the QEMU versions available, which are provisioned, and what each can do')
    .action(async () => {
      const onPath = await findQemu(undefined).catch(() => undefined);
      if (onPath && !onPath.origin.startsWith('Debian'))
        console.log(
          `PATH       ${onPath.version.padEnd(8)} ${onPath.origin} (the default); can: ${capabilitiesOf(onPath.version).join(', ')}`,
        );
      for (const { suite, version } of QEMU_BUILDS) {
        const have = provisionedVersion(suite);
        console.log(
          `${suite.padEnd(10)} ${version.padEnd(8)} ${have ? `provisioned: ${have} in ${provisionedRoot(suite)}` : `not provisioned: nvdimm-harness qemu fetch ${version}`}`,
        );
        console.log(`${''.padEnd(19)} can: ${capabilitiesOf(version).join(', ') || 'none of the named capabilities'}`);
      }
    });
  qemu
    .command('fetch')
    .description("provision a Debian suite's QEMU into the cache, without root")
    .argument('<version|suite>', `one of ${QEMU_BUILDS.map((s) => `${s.version} (${s.suite})`).join(', ')}`)
    .addHelpText('after', '\nExamples:\n  $ nvdimm-harness qemu fetch 10.0\n  $ nvdimm-harness qemu fetch bullseye')
    .action(async (name: string) => {
      const build = buildFor(name);
      if (!build) {
        console.error(
          `unknown QEMU version or Debian suite "${name}": pick one of ${QEMU_BUILDS.map((s) => `${s.version}, ${s.suite}`).join('; ')}`,
        );
        process.exitCode = 2;
        return;
      }
      const q = await provisionedQemu(build.suite, (line) => console.error(line));
      console.log(`QEMU ${q.version} from Debian ${build.suite}: ${q.prefix.at(-1)}`);
    });
}
