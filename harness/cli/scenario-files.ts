import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { loadScenarioFile, ScenarioError, type LoadedScenario } from '../scenario/load.js';

/** Where scenario files are when none is named: the current directory's, as in a project that uses the harness. */
export const DEFAULT_SCENARIOS = 'scenarios';

/** Scenario files named on the command line (folders searched for *.yaml), or all of ./scenarios/. */
export function scenarioFiles(args: string[]): string[] {
  if (args.length === 0 && !existsSync(DEFAULT_SCENARIOS))
    throw new EnvironmentError(
      `no ${DEFAULT_SCENARIOS}/ folder in ${process.cwd()}: name scenario files or folders (e.g. nvdimm-harness run my.yaml), or write a first one with nvdimm-harness init`,
    );
  return (args.length ? args : [DEFAULT_SCENARIOS]).flatMap((arg) => {
    const path = resolve(arg);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      return [path]; // reported by the loader, with its name
    }
    if (!isDir) return [path];
    return readdirSync(path, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(path, f));
  });
}

/**
 * Loads every file, or reports every problem of every file as file:line:column and returns undefined: a
 * typo should cost a second, not a boot.
 */
export function loadAll(files: string[]): LoadedScenario[] | undefined {
  const loaded: LoadedScenario[] = [];
  const errors: string[] = [];
  for (const f of files) {
    try {
      loaded.push(loadScenarioFile(relative(process.cwd(), f)));
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length) {
    console.error(errors.join('\n'));
    console.error(`\n${errors.length} malformed scenario file(s); nothing was run.`);
    return undefined;
  }
  return loaded;
}
