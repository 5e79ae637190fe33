import { relative } from 'node:path';
import type { Command } from 'commander';
import { imageNames, loadRecipe } from '../images/recipe.js';
import { ARCH_NAMES, ARCHES, type Arch } from '../arch.js';
import type { Scenario } from '../scenario/schema.js';
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
        for (const arch of ARCH_NAMES) console.log(`    ${arch.padEnd(6)} ${archVerdict(scenario, arch)}`);
        const onImages = images.filter((i) => !scenario.image || scenario.image === i);
        console.log(
          `    images: ${onImages
            .map((i) => {
              const { arch } = loadRecipe(i).recipe;
              return arch === 'amd64' ? i : `${i} (${arch})`;
            })
            .join(', ')}${onImages.length < images.length ? ` (others skipped: the scenario names ${scenario.image})` : ''}`,
        );
      }
    });
}

/** Whether a scenario runs on an arch's guests (its machine types), or why it is skipped there. */
function archVerdict(scenario: Scenario, arch: Arch): string {
  const { machines } = ARCHES[arch];
  if (!scenario.arches.includes(arch)) return `skipped: the scenario is for ${scenario.arches.join(', ')}`;
  const on = machines.filter((m) => scenario.machines.includes(m));
  if (on.length === 0) return `skipped: the scenario is for machine ${scenario.machines.join(', ')}, ${arch} has ${machines.join(', ')}`;
  const foreign = Object.entries(scenario.guests).find(([, g]) => g.machine.type !== undefined && !machines.includes(g.machine.type));
  if (foreign) return `skipped: guest ${foreign[0]} is a ${foreign[1].machine.type} machine, which ${arch} does not have`;
  const unmet = scenario.steps.filter((s) => s.when?.machine !== undefined && !on.includes(s.when.machine)).length;
  return `runs on ${on.join(', ')}${unmet ? `, ${unmet} step(s) skipped by their when: machine` : ''}`;
}
