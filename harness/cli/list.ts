import { relative } from 'node:path';
import type { Command } from 'commander';
import { imageNames } from '../images/recipe.js';
import { QEMU_BUILDS, versionIn } from '../qemu/versions.js';
import { stepUnmet } from '../scenario/plan.js';
import { loadAll, scenarioFiles } from './scenario-files.js';

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
      const images = imageNames();
      for (const { file, scenario } of loaded) {
        console.log(`${relative(process.cwd(), file)} — ${scenario.name}`);
        console.log(`  ${scenario.steps.length} steps; QEMU ${scenario.qemu}; image ${scenario.image ?? 'any'}`);
        for (const { suite, version } of QEMU_BUILDS) {
          const runs = versionIn(version, scenario.qemu);
          const ran = scenario.steps.filter((s) => !stepUnmet(s, version)).length;
          const gated = scenario.steps.length - ran;
          console.log(
            `    QEMU ${version.padEnd(5)} (${suite.padEnd(8)}) ${
              !runs ? `skipped: outside ${scenario.qemu}; 0 checks run` : `runs${gated ? `, ${gated} step(s) skipped by their when:` : ''}`
            }`,
          );
        }
        const onImages = images.filter((i) => !scenario.image || scenario.image === i);
        console.log(
          `    images: ${onImages.join(', ')}${onImages.length < images.length ? ` (others skipped: the scenario names ${scenario.image})` : ''}`,
        );
      }
    });
}
