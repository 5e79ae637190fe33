import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { itemLines, parseYaml, YamlSchemaError, type PathIssue, type YamlIssue } from './yaml.js';
import { backendsOn, scenarioSchema, type Scenario } from './schema.js';

export type ScenarioIssue = YamlIssue;

/** A scenario file that cannot be run, with every problem found in it; the message lists them as file:line:column. */
export class ScenarioError extends YamlSchemaError {}

/** An existing file a scenario names, as found on disk. */
export interface ExistingFile {
  /** Its real path: symlinks resolved. */
  path: string;
  size: number;
}

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  /** The scenario's existing files (`path:`), by their key in `files`. */
  existing: Record<string, ExistingFile>;
  /** The line each step starts on, for reports that point at it. */
  stepLines: number[];
}

/** Scenario files larger than this are refused unread: real ones are a few KiB. */
const MAX_SCENARIO_BYTES = 256 * 1024;

export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_SCENARIO_BYTES) throw new Error(`${size} bytes is more than the ${MAX_SCENARIO_BYTES / 1024} KiB a scenario may have`);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([{ file, line: 1, column: 1, message: `cannot read the scenario: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): LoadedScenario {
  const existing: Record<string, ExistingFile> = {};
  try {
    const scenario = parseYaml(text, file, scenarioSchema, (s) => findExistingFiles(s, dirname(resolve(file)), existing));
    return { file, scenario, existing, stepLines: itemLines(text, 'steps') };
  } catch (e) {
    if (e instanceof YamlSchemaError) throw new ScenarioError(e.issues);
    throw e;
  }
}

/**
 * Finds each existing file on disk: a regular file inside the scenario's folder once symlinks are resolved.
 * A file no guest may write must already be as large as every backend on it and not empty: QEMU extends an
 * empty file, and refuses or truncates on other size mismatches depending on its version.
 */
function findExistingFiles(s: Scenario, folder: string, found: Record<string, ExistingFile>): PathIssue[] {
  const issues: PathIssue[] = [];
  const root = realpathSync(folder);
  for (const [name, spec] of Object.entries(s.files)) {
    if (spec.path === undefined) continue;
    const at = ['files', name, 'path'];
    let real: string;
    try {
      real = realpathSync(resolve(folder, spec.path));
    } catch {
      issues.push({ path: at, message: `"${spec.path}" does not exist (relative to ${folder})` });
      continue;
    }
    if (real !== root && !real.startsWith(root + sep)) {
      issues.push({ path: at, message: `"${spec.path}" leads to ${real}, outside the scenario's folder ${root}` });
      continue;
    }
    const stat = lstatSync(real);
    if (!stat.isFile()) {
      issues.push({ path: at, message: `"${spec.path}" is not a regular file` });
      continue;
    }
    found[name] = { path: real, size: stat.size };
    if (spec.writable) continue;
    if (stat.size === 0) {
      issues.push({ path: at, message: `"${spec.path}" is empty: QEMU would extend it; give it content or \`writable: true\`` });
      continue;
    }
    for (const [backend, where] of backendsOn(s, name)) {
      if (backend.size !== undefined && backend.size + (backend.offset ?? 0) > stat.size)
        issues.push({
          path: [...where, 'size'],
          message: `backend size ${backend.size}${backend.offset ? ` from offset ${backend.offset}` : ''} is larger than "${spec.path}" (${stat.size} bytes), which no guest may change: give the file \`writable: true\`, or a size it has`,
        });
    }
  }
  return issues;
}
