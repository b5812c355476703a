/**
 * Test helper (never a test itself): a reader for the YAML subset caisson's emitter writes (and
 * the hand-written Tekton files keep to): block mappings and sequences, plain, double-quoted
 * (JSON) and single-quoted scalars, `|`/`|-` literal blocks, `[]`/`{}`, comments. Anything else
 * (anchors, flow collections with items, folded blocks) throws, so a file that
 * leaves the subset fails its test rather than being misread.
 */
export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  readonly indent: number;
  text: string;
  readonly number: number;
}

function fail(line: Line | undefined, message: string): never {
  throw new Error(`YAML line ${line?.number ?? 'end'}: ${message}`);
}

function parseScalar(text: string, line: Line): Yaml {
  if (text === '[]') return [];
  if (text === '{}') return {};
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) fail(line, `unterminated quote: ${text}`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (/^[[{&*!|>%@`]/.test(text)) fail(line, `outside the subset: ${text}`);
  const plain = text.replace(/\s+#.*$/, '');
  if (plain === 'true' || plain === 'false') return plain === 'true';
  if (plain === 'null' || plain === '~') return null;
  if (/^-?\d+(\.\d+)?$/.test(plain)) return Number(plain);
  return plain;
}

/** `key: rest` → [key, rest], or undefined when the text is no mapping entry. */
function splitEntry(text: string): [string, string] | undefined {
  if (text.startsWith('"')) {
    const end = text.indexOf('":');
    if (end < 0) return undefined;
    return [JSON.parse(text.slice(0, end + 1)) as string, text.slice(end + 2).trim()];
  }
  const match = /^([^\s:#'"][^:]*?):(?:\s+(.*))?$/.exec(text);
  return match === null ? undefined : [match[1] as string, (match[2] ?? '').trim()];
}

class Reader {
  readonly #lines: Line[];
  readonly #raw: string[];
  #at = 0;

  constructor(text: string) {
    this.#raw = text.split('\n');
    this.#lines = this.#raw
      .map((raw, index) => ({ indent: raw.length - raw.trimStart().length, text: raw.trim(), number: index + 1 }))
      .filter((line) => line.text !== '' && !line.text.startsWith('#'));
    const bad = this.#lines.find((line) => line.text === '---' || /^\t/.test(this.#raw[line.number - 1] ?? ''));
    if (bad !== undefined) fail(bad, 'one document (readYamlDocuments splits at ---), spaces only');
  }

  document(): Yaml {
    const value = this.node(0);
    if (this.#at < this.#lines.length) fail(this.#lines[this.#at], 'unexpected content');
    return value;
  }

  node(indent: number): Yaml {
    const line = this.#lines[this.#at];
    if (line === undefined || line.indent < indent) fail(line, 'expected a value');
    return line.text === '-' || line.text.startsWith('- ') ? this.sequence(line.indent) : this.mapping(line.indent);
  }

  sequence(indent: number): Yaml[] {
    const items: Yaml[] = [];
    for (let line = this.#lines[this.#at]; line !== undefined && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.#lines[this.#at]) {
      if (line.text === '-') {
        this.#at++;
        items.push(this.node(indent + 1));
        continue;
      }
      const rest = line.text.slice(2).trim();
      if (rest === '|' || rest === '|-') {
        this.#at++;
        items.push(this.literal(line, indent, rest === '|'));
      } else if (splitEntry(rest) !== undefined && !rest.startsWith("'")) {
        // `- key: value`: a mapping whose first entry sits after the dash.
        this.#lines[this.#at] = { indent: indent + 2, text: rest, number: line.number };
        items.push(this.mapping(indent + 2));
      } else {
        this.#at++;
        items.push(parseScalar(rest, line));
      }
    }
    return items;
  }

  mapping(indent: number): { [key: string]: Yaml } {
    const map: { [key: string]: Yaml } = {};
    for (let line = this.#lines[this.#at]; line !== undefined && line.indent === indent; line = this.#lines[this.#at]) {
      const entry = splitEntry(line.text);
      if (entry === undefined) fail(line, `expected key: value, got ${line.text}`);
      const [key, rest] = entry;
      if (Object.hasOwn(map, key)) fail(line, `duplicate key ${key}`);
      this.#at++;
      if (rest === '|' || rest === '|-') map[key] = this.literal(line, indent, rest === '|');
      else if (rest !== '') map[key] = parseScalar(rest, line);
      else {
        const next = this.#lines[this.#at];
        if (next !== undefined && next.indent > indent) map[key] = this.node(next.indent);
        else if (next !== undefined && next.indent === indent && next.text.startsWith('- ')) map[key] = this.sequence(indent);
        else map[key] = null;
      }
    }
    if (this.#lines[this.#at] !== undefined && (this.#lines[this.#at] as Line).indent > indent) fail(this.#lines[this.#at], 'bad indentation');
    return map;
  }

  /** A literal block after `line` (raw lines, blank ones kept), its indent taken from the first. */
  literal(line: Line, indent: number, keep: boolean): string {
    const body: string[] = [];
    let blockIndent: number | undefined;
    let index = line.number; // raw index of the next line
    for (; index < this.#raw.length; index++) {
      const raw = this.#raw[index] as string;
      if (raw.trim() === '') {
        body.push('');
        continue;
      }
      const own = raw.length - raw.trimStart().length;
      if (own <= indent) break;
      blockIndent ??= own;
      if (own < blockIndent) break;
      body.push(raw.slice(blockIndent));
    }
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    while (this.#at < this.#lines.length && (this.#lines[this.#at] as Line).number <= index) this.#at++;
    return body.join('\n') + (keep && body.length > 0 ? '\n' : '');
  }
}

/** Parses each `---`-separated document of a file. */
export function readYamlDocuments(text: string): Yaml[] {
  return text.split(/^---$/m).filter((part) => part.trim() !== '').map(readYaml);
}

/** Parses one YAML document of the subset above. */
export function readYaml(text: string): Yaml {
  return new Reader(text).document();
}
