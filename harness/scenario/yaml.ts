import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';

/** One problem in a YAML file, with where it is. */
export interface YamlIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A YAML file that does not fit its schema, with every problem found in it, listed as file:line:column. */
export class YamlSchemaError extends Error {
  constructor(readonly issues: YamlIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'YamlSchemaError';
  }
}

/**
 * Parses YAML and validates it with a zod schema, keeping positions: every problem (a syntax error, an
 * unknown key, a wrong value) is reported at the exact key or value, sorted by position.
 */
export function parseYaml<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    throw new YamlSchemaError(
      doc.errors.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { file, line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const issues = result.error.issues.flatMap(specific).map((issue) => ({ file, ...position(doc, issue, at), message: describe(issue) }));
    throw new YamlSchemaError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return result.data;
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

function describe(issue: Issue): string {
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  if (issue.code === 'unrecognized_keys')
    return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_key') return `${where}${issue.issues.map((i) => i.message).join('; ')}`;
  return `${where}${plain(issue.message)}`;
}

/** zod's "Invalid input: expected number, received string" says the same without its prefix. */
function plain(message: string): string {
  return message.replace(/^Invalid (input|option): /, '');
}
