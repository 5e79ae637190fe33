/**
 * Just enough XML for JUnit reports: elements, attributes, text and CDATA, with the five predefined
 * entities and character references. No DTDs or namespaces: JUnit writers emit neither. Hand-written rather
 * than a dependency, and a single pass over the text: 200 reports must be read in well under a second.
 * fast-xml-parser 5.12 was tried in its place: it brings 7 more packages, and its validator words a truncated
 * report (the usual unreadable cell: a runner killed mid-write) as `Invalid '[ "testsuites", "testsuite" ]'
 * found.` where this says `<testsuite> is not closed`.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text and CDATA, concatenated (not its children's). */
  text: string;
}

export class XmlError extends Error {}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** The document's root element; throws XmlError on text that is not well-formed as far as this reads it. */
export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let at = 0;
  while (at < source.length) {
    const lt = source.indexOf('<', at);
    const top = stack[stack.length - 1]!;
    if (lt === -1) {
      if (source.slice(at).trim()) top.text += decode(source.slice(at));
      break;
    }
    if (lt > at && stack.length > 1) top.text += decode(source.slice(at, lt));
    if (source.startsWith('<?', lt) || source.startsWith('<!--', lt) || source.startsWith('<!DOCTYPE', lt)) {
      const end = source.startsWith('<!--', lt) ? source.indexOf('-->', lt) + 3 : source.indexOf('>', lt) + 1;
      if (end <= lt) throw new XmlError(`unterminated declaration or comment at offset ${lt}`);
      at = end;
      continue;
    }
    if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt);
      if (end === -1) throw new XmlError(`unterminated CDATA at offset ${lt}`);
      top.text += source.slice(lt + 9, end);
      at = end + 3;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(source);
    if (!m) throw new XmlError(`malformed tag at offset ${lt}: ${JSON.stringify(source.slice(lt, lt + 40))}`);
    const [whole, closing, name, attributeText, selfClosing] = m;
    at = lt + whole.length;
    if (closing) {
      if (top.name !== name) throw new XmlError(`</${name}> at offset ${lt} closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of attributeText!.matchAll(ATTRIBUTE)) attributes[a[1]!] = decode(a[2] ?? a[3] ?? '');
    const element: XmlElement = { name: name!, attributes, children: [], text: '' };
    top.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 1) throw new XmlError(`<${stack[stack.length - 1]!.name}> is not closed`);
  const [first] = root.children;
  if (!first || root.children.length > 1) throw new XmlError('expected exactly one root element');
  return first;
}
