import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile, ScenarioError, type LoadedScenario } from '../scenario/load.js';

/** The package's own folder: scenarios/, images/ and vitest.config.ts live here. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Scenario files named on the command line (folders searched for *.yaml), or all of scenarios/. */
export function scenarioFiles(args: string[]): string[] {
  return (args.length ? args : [join(ROOT, 'scenarios')]).flatMap((arg) => {
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
