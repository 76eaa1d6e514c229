/**
 * Reads an `oauth2_proxy.cfg`: the subset of TOML that oauth2-proxy's legacy config file uses —
 * `key = "string"` (or 'literal'), `key = true|false`, `key = 0` (integers), `key = [ "a", "b" ]`
 * (arrays of those, over several lines, trailing comma allowed) and `#` comments. Anything else
 * (tables, dotted keys, dates, a key given twice) is an error naming the line, so a file we read
 * half-way never starts a judge. Pure: the caller reads the file.
 */

export type CfgValue = string | boolean | number | readonly (string | boolean | number)[];

export interface CfgEntry {
  readonly value: CfgValue;
  /** 1-based line of the key, for messages. */
  readonly line: number;
}

export interface ParsedCfg {
  readonly entries: ReadonlyMap<string, CfgEntry>;
  readonly errors: readonly string[];
}

const KEY = /^[A-Za-z0-9_-]+$/;
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

class CfgSyntaxError extends Error {}

/** A cursor over the whole text (arrays span lines). */
class Reader {
  pos = 0;
  constructor(readonly text: string) {}

  line(): number {
    let n = 1;
    for (let i = 0; i < this.pos && i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) n++;
    return n;
  }

  /** Skips spaces and tabs; with `newlines`, also line breaks and comments. */
  skip(newlines: boolean): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (newlines && (c === '\n' || c === '\r')) this.pos++;
      else if (newlines && c === '#') while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
      else return;
    }
  }

  /** After a value: only spaces, a comment, then the end of the line. */
  endOfLine(): void {
    this.skip(false);
    if (this.text[this.pos] === '#') while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.pos++;
    if (this.text[this.pos] === '\r') this.pos++;
    if (this.pos < this.text.length && this.text[this.pos] !== '\n') throw new CfgSyntaxError('unexpected text after the value');
  }

  value(inArray: boolean): CfgValue {
    const c = this.text[this.pos];
    if (c === '"') return this.basic();
    if (c === "'") return this.literal();
    if (c === '[') {
      if (inArray) throw new CfgSyntaxError('nested arrays are not supported');
      return this.array();
    }
    const m = /^(true|false|[+-]?\d+)(?=[\s,\]#]|$)/.exec(this.text.slice(this.pos, this.pos + 32));
    if (m === null) throw new CfgSyntaxError('expected a "string", true, false, an integer or an [ array ]');
    this.pos += m[1]!.length;
    if (m[1] === 'true' || m[1] === 'false') return m[1] === 'true';
    return Number(m[1]);
  }

  private basic(): string {
    if (this.text.startsWith('"""', this.pos)) throw new CfgSyntaxError('multi-line strings are not supported');
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') throw new CfgSyntaxError('unterminated string');
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++] ?? '';
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = this.text.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) throw new CfgSyntaxError(`bad \\${e} escape`);
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        this.pos += len;
      } else throw new CfgSyntaxError(`unknown escape \\${e}`);
    }
  }

  private literal(): string {
    if (this.text.startsWith("'''", this.pos)) throw new CfgSyntaxError('multi-line strings are not supported');
    const end = this.text.indexOf("'", this.pos + 1);
    const nl = this.text.indexOf('\n', this.pos + 1);
    if (end < 0 || (nl >= 0 && nl < end)) throw new CfgSyntaxError('unterminated string');
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  private array(): (string | boolean | number)[] {
    this.pos++;
    const out: (string | boolean | number)[] = [];
    for (;;) {
      this.skip(true);
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
      if (this.pos >= this.text.length) throw new CfgSyntaxError('unterminated array');
      out.push(this.value(true) as string | boolean | number);
      this.skip(true);
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== ']') throw new CfgSyntaxError('expected "," or "]" in the array');
    }
  }
}

export function parseCfg(text: string, name = 'oauth2_proxy.cfg'): ParsedCfg {
  const entries = new Map<string, CfgEntry>();
  const errors: string[] = [];
  const r = new Reader(text.replace(/^\uFEFF/, ''));
  while (r.pos < r.text.length) {
    r.skip(true);
    if (r.pos >= r.text.length) break;
    const line = r.line();
    try {
      if (r.text[r.pos] === '[') throw new CfgSyntaxError('tables ([section]) are not part of oauth2_proxy.cfg');
      const eq = r.text.indexOf('=', r.pos);
      const nl = r.text.indexOf('\n', r.pos);
      if (eq < 0 || (nl >= 0 && nl < eq)) throw new CfgSyntaxError('expected key = value');
      let key = r.text.slice(r.pos, eq).trim();
      if (/^".*"$/.test(key)) key = key.slice(1, -1);
      if (!KEY.test(key)) throw new CfgSyntaxError(`unreadable key ${JSON.stringify(key)}`);
      r.pos = eq + 1;
      r.skip(false);
      const value = r.value(false);
      r.endOfLine();
      if (entries.has(key)) errors.push(`${name}:${line}: ${key} is set twice (first on line ${entries.get(key)!.line})`);
      else entries.set(key, { value, line });
    } catch (e) {
      if (!(e instanceof CfgSyntaxError)) throw e;
      errors.push(`${name}:${r.line()}: ${e.message}`);
      // Resume on the next line.
      const next = r.text.indexOf('\n', Math.max(r.pos, 0));
      r.pos = next < 0 ? r.text.length : next + 1;
    }
  }
  return { entries, errors };
}
