/*
 * A small XML reader for annotation files (Pascal VOC): elements, attributes, text, comments,
 * CDATA, the five named entities and numeric ones. It does not validate against DTDs, resolve
 * external entities or read namespaces, and it never guesses: a document that is not well formed
 * is an error that gives the line and what was expected.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (CDATA included), entities decoded, not trimmed. */
  text: string;
  line: number;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number
  ) {
    super(`malformed XML at line ${line}: ${message}`);
    this.name = 'XmlError';
  }
}

const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[body] ?? whole;
  });
}

/** Parses a document and returns its root element. */
export function parseXml(text: string): XmlElement {
  let p = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const lineAt = (pos: number): number => {
    let line = 1;
    for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
    return line;
  };
  const fail = (message: string, pos = p): never => {
    throw new XmlError(message, lineAt(pos));
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  const skipPast = (end: string, what: string): void => {
    const i = text.indexOf(end, p);
    if (i < 0) fail(`${what} is not closed (no '${end}')`);
    p = i + end.length;
  };
  const readName = (): string => {
    NAME.lastIndex = p;
    const m = NAME.exec(text);
    if (!m) return fail(`expected a tag name, found '${text.slice(p, p + 10)}'`);
    p += m[0].length;
    return m[0];
  };
  const skipSpace = (): void => {
    while (p < text.length && /\s/.test(text[p])) p++;
  };

  while (p < text.length) {
    const lt = text.indexOf('<', p);
    const chunk = text.slice(p, lt < 0 ? text.length : lt);
    if (chunk.length > 0) {
      if (stack.length > 0) stack[stack.length - 1].text += decodeEntities(chunk);
      else if (chunk.trim()) fail(`text outside the root element: '${chunk.trim().slice(0, 20)}'`);
    }
    if (lt < 0) break;
    p = lt;
    if (text.startsWith('<?', p)) skipPast('?>', 'a processing instruction');
    else if (text.startsWith('<!--', p)) skipPast('-->', 'a comment');
    else if (text.startsWith('<![CDATA[', p)) {
      const start = p + 9;
      skipPast(']]>', 'a CDATA section');
      if (stack.length === 0) fail('CDATA outside the root element', start);
      stack[stack.length - 1].text += text.slice(start, p - 3);
    } else if (text.startsWith('<!', p)) {
      const bracket = text.indexOf('[', p),
        close = text.indexOf('>', p);
      if (bracket >= 0 && close >= 0 && bracket < close) skipPast(']>', 'a DOCTYPE');
      else skipPast('>', 'a declaration');
    } else if (text.startsWith('</', p)) {
      const at = p;
      p += 2;
      const name = readName();
      skipSpace();
      if (text[p] !== '>') fail(`expected '>' to end </${name}`);
      p++;
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> has no opening tag`, at);
      else if (open.name !== name) fail(`expected </${open.name}> (opened at line ${open.line}), found </${name}>`, at);
    } else {
      const at = p;
      p++;
      const el: XmlElement = { name: readName(), attributes: {}, children: [], text: '', line: lineAt(at) };
      for (;;) {
        skipSpace();
        if (p >= text.length) fail(`<${el.name}> is not closed with '>'`, at);
        if (text[p] === '>' || text.startsWith('/>', p)) break;
        const attr = readName();
        skipSpace();
        if (text[p] !== '=') fail(`attribute '${attr}' of <${el.name}> has no value`);
        p++;
        skipSpace();
        const quote = text[p];
        if (quote !== '"' && quote !== "'") fail(`the value of attribute '${attr}' must be quoted`);
        const end = text.indexOf(quote, p + 1);
        if (end < 0) fail(`the value of attribute '${attr}' is not closed`);
        el.attributes[attr] = decodeEntities(text.slice(p + 1, end));
        p = end + 1;
      }
      const selfClosing = text[p] === '/';
      p += selfClosing ? 2 : 1;
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) fail(`a second root element <${el.name}> after <${root.name}>`, at);
      else root = el;
      if (!selfClosing) stack.push(el);
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1];
    throw new XmlError(
      `the file ends before <${open.name}> (opened at line ${open.line}) is closed`,
      lineAt(text.length)
    );
  }
  if (!root) throw new XmlError('no root element', lineAt(text.length));
  return root;
}

/** The first child element called `name`. */
export function xmlChild(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** Every child element called `name`. */
export function xmlChildren(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** The trimmed text of the first child called `name`, or undefined. */
export function xmlText(el: XmlElement, name: string): string | undefined {
  const c = xmlChild(el, name);
  return c ? c.text.trim() : undefined;
}
