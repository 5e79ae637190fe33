import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { scenarioSchema, type Scenario } from './schema.js';

/** One problem in a scenario file, with where it is. */
export interface ScenarioIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A scenario file that cannot be run, with every problem found in it; the message lists them as file:line:column. */
export class ScenarioError extends Error {
  constructor(readonly issues: ScenarioIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'ScenarioError';
  }
}

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  /** Where each step starts in the file, for reports. */
  stepLines: number[];
}

export function loadScenarioFile(file: string): LoadedScenario {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError([{ file, line: 1, column: 1, message: `cannot read the scenario: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): LoadedScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { file, line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const result = scenarioSchema.safeParse(doc.toJS());
  if (!result.success) {
    throw new ScenarioError(result.error.issues.map((issue) => ({ file, ...position(doc, issue, at), message: describe(issue) })));
  }
  const steps = doc.get('steps', true);
  const stepLines = isSeq(steps) ? steps.items.map((n) => (isNode(n) && n.range ? at(n.range[0]).line : 0)) : [];
  return { file, scenario: result.data, stepLines };
}

/** The node an issue's path leads to; for an unknown key, the key itself. */
function position(doc: Document, issue: z.core.$ZodIssue, at: (o: number) => { line: number; col: number }) {
  let node: unknown = doc.contents;
  for (const key of issue.path) {
    if (isMap(node) || isSeq(node)) {
      const next = node.get(key, true);
      if (next === undefined) break;
      node = next;
    } else break;
  }
  if (issue.code === 'unrecognized_keys' && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === issue.keys[0]);
    if (pair && isNode(pair.key)) node = pair.key;
  }
  const range = (node as Node | undefined)?.range ?? doc.contents?.range ?? [0, 0, 0];
  const { line, col } = at(range[0]);
  return { line, column: col };
}

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys') return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return `${where}${issue.message}`;
}
