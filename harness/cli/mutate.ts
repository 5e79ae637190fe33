import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { prepareEnvironment } from '../engine/environment.js';
import { configurationMutants, expectationMutants, runAllSteps, runConfigurationMutant, type MutantResult } from '../engine/mutate.js';
import { addSettingOptions, chosenSettings, exportSettings, GUEST_SETTINGS, setting } from '../settings.js';
import { loadAll, scenarioFiles } from './scenario-files.js';

interface MutateOptions {
  qemu?: string;
  kernel?: string;
  modules?: string;
  image?: string;
  arch?: string;
  machine?: string;
  accel?: string;
  expectationsOnly?: boolean;
}

export function registerMutate(program: Command): void {
  const command = program
    .command('mutate')
    .description(
      'prove that each check of a scenario can fail: change its expectations and configuration, and report every change that still passes',
    )
    .argument('[files...]', 'scenario files or folders (default: scenarios/)');
  addSettingOptions(command, [...GUEST_SETTINGS])
    .option('--expectations-only', 'judge changed expectations against one real run, and re-run no configuration mutant')
    .addHelpText(
      'after',
      `
Expectation mutants (an expected size, count, mode or flag changed, match inverted, another version's message)
are judged against what one real run of the scenario observed. Configuration mutants (share flipped,
label-size dropped or doubled, slots and maxmem raised where a refusal is expected) run the changed scenario.
A mutant that passes survives; a scenario may list the ids of mutants that may survive, with the reason, in
its \`survivors:\` map.

Examples:
  $ nvdimm-harness mutate scenarios/basic.yaml
  $ nvdimm-harness mutate --expectations-only scenarios/

Exit status: 0 no unexplained survivor, 1 a survivor not listed in the scenario (or the real run failed),
2 a scenario file or an option is malformed.`,
    )
    .action(async (args: string[], opts: MutateOptions) => {
      process.exitCode = await mutate(args, opts);
    });
}

async function mutate(args: string[], opts: MutateOptions): Promise<number> {
  const loaded = loadAll(scenarioFiles(args));
  if (!loaded) return 2;
  exportSettings(chosenSettings(opts, GUEST_SETTINGS));
  let status = 0;
  for (const scenario of loaded) {
    const name = relative(process.cwd(), scenario.file);
    const env = await prepareEnvironment(scenario.scenario.image, (line) => console.error(line));
    const started = Date.now();
    const results = await runAllSteps(scenario, env, setting('artifacts'));
    const failed = results.find((r) => r.status === 'failed');
    if (failed) {
      console.log(
        `${name}: the scenario itself fails at step ${failed.step.index + 1}, so its mutants say nothing:\n${failed.error?.message}`,
      );
      status = 1;
      continue;
    }
    const mutants: MutantResult[] = expectationMutants(results, env.qemu.version);
    if (!opts.expectationsOnly) {
      const ran = (index: number) => results[index]?.status === 'passed';
      for (const m of configurationMutants(readFileSync(scenario.file, 'utf8'), ran)) {
        console.error(`${name}: running configuration mutant ${m.id}`);
        mutants.push(await runConfigurationMutant(m.text, scenario.file, m.id, env, setting('artifacts')));
      }
    }
    const documented = scenario.scenario.survivors;
    const survivors = mutants.filter((m) => m.outcome === 'survived');
    const unexplained = survivors.filter((m) => !(m.id in documented));
    const count = (kind: MutantResult['kind']) => {
      const of = mutants.filter((m) => m.kind === kind);
      return `${of.length} ${kind} mutants (${of.filter((m) => m.outcome === 'killed').length} killed, ${of.filter((m) => m.outcome === 'survived').length} survived)`;
    };
    console.log(
      `${name} [QEMU ${env.qemu.version}, ${env.image.name}]: ${count('expectation')}, ${count('configuration')}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
    for (const m of survivors)
      console.log(
        `  ${m.id in documented ? 'survived, as documented' : 'SURVIVED'}: ${m.id}${m.id in documented ? ` — ${documented[m.id]}` : ''}`,
      );
    for (const m of mutants.filter((x) => x.outcome === 'refused by the loader'))
      console.log(`  not run (the loader refuses it): ${m.id}: ${m.detail}`);
    for (const id of Object.keys(documented).filter((id) => !survivors.some((m) => m.id === id)))
      console.log(`  listed in survivors: but ${mutants.find((m) => m.id === id)?.outcome ?? 'not a mutant of this run'}: ${id}`);
    if (unexplained.length > 0) status = 1;
  }
  return status;
}
