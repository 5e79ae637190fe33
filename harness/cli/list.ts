import { readdirSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import semver from 'semver';
import { IMAGES_DIR } from '../images/build.js';
import { SUITES } from '../qemu/binary.js';
import { loadAll, scenarioFiles } from './paths.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list scenarios against the known QEMU versions and guest images, with the reason for every skip')
    .argument('[files...]', 'scenario files or folders (default: scenarios/)')
    .addHelpText('after', '\nExample:\n  $ nvdimm-harness list scenarios/hotplug.yaml')
    .action((args: string[]) => {
      const loaded = loadAll(scenarioFiles(args));
      if (!loaded) {
        process.exitCode = 2;
        return;
      }
      const images = readdirSync(IMAGES_DIR)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5));
      for (const { file, scenario } of loaded) {
        console.log(`${relative(process.cwd(), file)} — ${scenario.name}`);
        console.log(`  ${scenario.steps.length} steps; QEMU ${scenario.qemu}; image ${scenario.image ?? 'any'}`);
        for (const { suite, version } of SUITES) {
          const full = `${version}.0`;
          const runs = semver.satisfies(full, scenario.qemu);
          const gated = scenario.steps.filter((s) => s.when?.qemu && !semver.satisfies(full, s.when.qemu)).length;
          console.log(
            `    QEMU ${version.padEnd(5)} (${suite.padEnd(8)}) ${runs ? `runs${gated ? `, ${gated} step(s) skipped by their when:` : ''}` : `skipped: outside ${scenario.qemu}`}`,
          );
        }
        const onImages = images.filter((i) => !scenario.image || scenario.image === i);
        console.log(
          `    images: ${onImages.join(', ')}${onImages.length < images.length ? ` (others skipped: the scenario names ${scenario.image})` : ''}`,
        );
      }
    });
}
