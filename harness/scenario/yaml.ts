import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { HarnessError } from '../errors.js';

/** One problem in a YAML file, with where it is. */
export interface YamlIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Alias expansions allowed in one file: scenarios use a few, a "billion laughs" file millions. */
const MAX_ALIAS_COUNT = 100;

/** A YAML file that does not fit its schema, with every problem found in it, listed as file:line:column. */
export class YamlSchemaError extends HarnessError {
  constructor(readonly issues: YamlIssue[]) {
    super('SCENARIO_INVALID', issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
  }
}

/**
 * Parses YAML and validates it with a zod schema, keeping positions: every problem (a syntax error, an
 * unknown key, a wrong value) is reported at the exact key or value, sorted by position.
 */
export function parseYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  check: (value: z.output<S>) => PathIssue[] = () => [],
): z.output<S> {
  const lineCounter = new LineCounter();
  const at = (offset: number) => lineCounter.linePos(offset);
  const whole = (message: string) => new YamlSchemaError([{ file, line: 1, column: 1, message }]);
  let doc: Document;
  let value: unknown;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
    // Warnings count too: an unknown tag (`!evil`) would otherwise be read as a plain string.
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new YamlSchemaError(
        problems.map((e) => {
          const { line, col } = at(e.pos[0]);
          return { file, line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
        }),
      );
    }
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof YamlSchemaError) throw e;
    // The yaml library's alias limit (a "billion laughs" file), or nesting deeper than the stack.
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw whole(`YAML: more than ${MAX_ALIAS_COUNT} alias expansions`);
    if (e instanceof RangeError) throw whole('YAML: nested too deeply');
    throw e;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.flatMap(specific).map((issue) => ({ file, ...position(doc, issue, at), message: describe(issue) }));
    throw new YamlSchemaError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  // Checks that need more than the document (the files it names), placed like the schema's own.
  const late = check(result.data).map((i) => {
    const issue = { code: 'custom', path: i.path, message: i.message, input: undefined } as Issue;
    return { file, ...position(doc, issue, at), message: describe(issue) };
  });
  if (late.length > 0) throw new YamlSchemaError(late);
  return result.data;
}

/** The line each item of a top-level sequence starts on (1-based), e.g. each step's, for reports. */
export function itemLines(text: string, key: string): number[] {
  const lineCounter = new LineCounter();
  const seq = parseDocument(text, { lineCounter }).get(key, true);
  return isSeq(seq) ? seq.items.map((item) => lineCounter.linePos((item as Node).range?.[0] ?? 0).line) : [];
}

/** A problem found after validation, at a path in the document. */
export interface PathIssue {
  path: (string | number)[];
  message: string;
}

type Issue = z.core.$ZodIssue;

/**
 * The issues worth showing. For a value that fits no branch of a union, the branch that got furthest
 * (its issues lie deepest) says best what is wrong; if none got further, all branches' expectations are
 * listed together.
 */
function specific(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const depth = (branch: Issue[]) => Math.max(...branch.map((i) => i.path.length));
  const deepest = Math.max(...issue.errors.map(depth));
  const rebase = (i: Issue): Issue => ({ ...i, path: [...issue.path, ...i.path] }) as Issue;
  if (deepest > 0) {
    const branch = issue.errors.find((b) => depth(b) === deepest)!;
    return branch.map(rebase).flatMap(specific);
  }
  const expectations = [...new Set(issue.errors.flat().map((i) => plain(i.message).replace(/^expected /, '')))];
  return [{ ...issue, message: `expected ${expectations.join(', or ')}` }];
}

/** The node an issue's path leads to; for an unknown or malformed key, the key itself. */
function position(doc: Document, issue: Issue, at: (o: number) => { line: number; col: number }) {
  let node: unknown = doc.contents;
  let key: unknown;
  for (const segment of issue.path) {
    if (!isMap(node) && !isSeq(node)) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      key = pair.key;
      node = pair.value;
    } else {
      const next = node.get(segment, true);
      if (next === undefined) break;
      key = undefined;
      node = next;
    }
  }
  if (issue.code === 'invalid_key' && isNode(key)) node = key;
  if (issue.code === 'unrecognized_keys' && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === issue.keys[0]);
    if (pair && isNode(pair.key)) node = pair.key;
  }
  const range = (node as Node | undefined)?.range ?? doc.contents?.range ?? [0, 0, 0];
  const { line, col } = at(range[0]);
  return { line, column: col };
}

/** A path as people count: `steps.1.run` is the second step, shown as `step 2.run` like everywhere else. */
function pathText(path: PropertyKey[]): string {
  const text = path.map(String).join('.');
  return text.replace(/^steps\.(\d+)/, (_, i: string) => `step ${Number(i) + 1}`);
}

function describe(issue: Issue): string {
  const where = issue.path.length ? `${pathText(issue.path)}: ` : '';
  if (issue.code === 'unrecognized_keys')
    return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_key') return `${where}${issue.issues.map((i) => i.message).join('; ')}`;
  return `${where}${plain(issue.message)}`;
}

/** zod's "Invalid input: expected number, received string" says the same without its prefix. */
function plain(message: string): string {
  return message.replace(/^Invalid (input|option): /, '');
}
