import type { Command } from 'commander';
import { findQemu, provisionedQemu, provisionedRoot, provisionedVersion } from '../qemu/binary.js';
import { buildFor, capabilitiesOf, QEMU_BUILDS } from '../qemu/versions.js';
import { ARCH_NAMES, ARCHES, type Arch } from '../arch.js';

export function registerQemu(program: Command): void {
  const qemu = program.command('qemu').description('QEMU builds: the one on PATH, and Debian builds provisioned into the cache');
  qemu
    .command('list')
    .description('show the QEMU versions available, for each guest architecture which are provisioned, and what each can do')
    .action(async () => {
      const onPath = await findQemu(undefined).catch(() => undefined);
      if (onPath && !onPath.origin.startsWith('Debian'))
        console.log(
          `PATH       ${onPath.version.padEnd(8)} ${onPath.origin} (the default); can: ${capabilitiesOf(onPath.version).join(', ')}`,
        );
      for (const { suite, version } of QEMU_BUILDS) {
        console.log(
          `${suite.padEnd(10)} ${version.padEnd(8)} can: ${capabilitiesOf(version).join(', ') || 'none of the named capabilities'}`,
        );
        for (const arch of ARCH_NAMES) {
          const have = provisionedVersion(suite, arch);
          const fetch = `nvdimm-harness qemu fetch ${version}${arch === 'amd64' ? '' : ` --arch ${arch}`}`;
          console.log(
            `${''.padEnd(19)} ${arch.padEnd(6)} ${ARCHES[arch].qemuBinary.padEnd(19)} ${have ? `provisioned: ${have} in ${provisionedRoot(suite, arch)}` : `not provisioned: ${fetch}`}`,
          );
        }
      }
    });
  qemu
    .command('fetch')
    .description("provision a Debian suite's QEMU into the cache, without root")
    .argument('<version|suite>', `one of ${QEMU_BUILDS.map((s) => `${s.version} (${s.suite})`).join(', ')}`)
    .option('--arch <arch>', `the guest architecture the build is for: ${ARCH_NAMES.join(', ')}`, 'amd64')
    .addHelpText(
      'after',
      '\nExamples:\n  $ nvdimm-harness qemu fetch 10.0\n  $ nvdimm-harness qemu fetch bullseye\n  $ nvdimm-harness qemu fetch 7.2 --arch arm64',
    )
    .action(async (name: string, opts: { arch: string }) => {
      if (!(ARCH_NAMES as readonly string[]).includes(opts.arch)) {
        console.error(`unknown architecture "${opts.arch}": pick one of ${ARCH_NAMES.join(', ')}`);
        process.exitCode = 2;
        return;
      }
      const build = buildFor(name);
      if (!build) {
        console.error(
          `unknown QEMU version or Debian suite "${name}": pick one of ${QEMU_BUILDS.map((s) => `${s.version}, ${s.suite}`).join('; ')}`,
        );
        process.exitCode = 2;
        return;
      }
      const q = await provisionedQemu(build.suite, (line) => console.error(line), opts.arch as Arch);
      console.log(`QEMU ${q.version} from Debian ${build.suite}: ${q.prefix.at(-1)}`);
    });
}
