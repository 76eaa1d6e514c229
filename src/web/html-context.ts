/**
 * Follows a template's static HTML, at compile time, to know where each printed value lands — HTML
 * text, an attribute value (plain, URL, CSS or JavaScript), a `<script>`/`<style>`/`<title>` body —
 * and picks the escaper for that place, as Go's html/template does. Places where a value would
 * be unsafe whatever the escaping (a tag name, between attributes, in a comment of a script) are
 * refused with a message the compiler turns into a `file:line` error. HTML comments are dropped
 * from the output, as Go does.
 */
import { cssEscaper, cssPlace, jsEscaper, jsPlace, type Escaper } from './embedded.js';
import * as esc from './escape.js';

export type { Escaper };

type State = 'text' | 'tagName' | 'tag' | 'attrName' | 'afterAttrName' | 'beforeValue' | 'value' | 'raw' | 'comment' | 'bogus';

type AttrKind = 'plain' | 'url' | 'css' | 'js';

/** Elements whose body is not HTML: no tags inside, only the end tag ends them. */
const RAW = new Set(['script', 'style', 'title', 'textarea']);
const URL_ATTRS = new Set([
  'action',
  'archive',
  'background',
  'cite',
  'classid',
  'codebase',
  'data',
  'formaction',
  'href',
  'icon',
  'longdesc',
  'manifest',
  'poster',
  'profile',
  'src',
  'srcset',
  'usemap',
  'xmlns',
]);

function attrKind(name: string): AttrKind {
  let n = name.startsWith('data-') ? name.slice(5) : name;
  const colon = n.indexOf(':');
  if (colon >= 0) n = n.slice(colon + 1);
  if (n.startsWith('on')) return 'js';
  if (n === 'style') return 'css';
  if (URL_ATTRS.has(n) || n.includes('src') || n.includes('uri') || n.includes('url')) return 'url';
  return 'plain';
}

const isLetter = (c: string | undefined): boolean => c !== undefined && /[A-Za-z]/.test(c);
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

/** The running HTML state of one template's static text. Cheap to clone for `{{if}}` branches. */
export class HtmlContext {
  private state: State = 'text';
  /** Current element name, lower-case (in a tag or a raw body). */
  private tag = '';
  private closing = false;
  private attr = '';
  private kind: AttrKind = 'plain';
  private quote = '';
  /** The attribute value or raw body so far; `\0` where a value was printed. */
  private body = '';
  /** The last text ended with `<` or `</`: a value there would make a tag name. */
  private danglingLt = false;

  clone(): HtmlContext {
    return Object.assign(new HtmlContext(), this);
  }

  /** Advances over static text; returns the text to output (HTML comments removed). */
  feed(text: string): string {
    let out = '';
    this.danglingLt = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      switch (this.state) {
        case 'text':
          if (c === '<' && text.startsWith('<!--', i)) {
            this.state = 'comment';
            i += 3;
            continue;
          }
          if (c === '<' && isLetter(text[i + 1])) this.enterTag(false);
          else if (c === '<' && text[i + 1] === '/' && isLetter(text[i + 2])) {
            this.enterTag(true);
            out += '</';
            i++;
            continue;
          } else if (c === '<' && (text[i + 1] === '!' || text[i + 1] === '?')) this.state = 'bogus';
          else if (c === '<' && (i + 1 === text.length || (text[i + 1] === '/' && i + 2 === text.length))) this.danglingLt = true;
          break;
        case 'comment': {
          const end = text.indexOf('-->', i);
          if (end < 0) return out;
          this.state = 'text';
          i = end + 2;
          continue;
        }
        case 'bogus':
          if (c === '>') this.state = 'text';
          break;
        case 'tagName':
          if (/[A-Za-z0-9:-]/.test(c)) this.tag += c.toLowerCase();
          else {
            this.state = 'tag';
            i--;
            continue;
          }
          break;
        case 'tag':
          if (c === '>') this.endTag();
          else if (!isSpace(c) && c !== '/') {
            this.state = 'attrName';
            this.attr = '';
            i--;
            continue;
          }
          break;
        case 'attrName':
        case 'afterAttrName':
          if (c === '=') {
            this.state = 'beforeValue';
            this.kind = attrKind(this.attr);
          } else if (c === '>' || c === '/') {
            this.state = 'tag';
            i--;
            continue;
          } else if (isSpace(c)) this.state = 'afterAttrName';
          else if (this.state === 'afterAttrName') {
            this.state = 'attrName';
            this.attr = c.toLowerCase();
          } else this.attr += c.toLowerCase();
          break;
        case 'beforeValue':
          if (isSpace(c)) break;
          this.state = 'value';
          this.body = '';
          this.quote = c === '"' || c === "'" ? c : '';
          if (this.quote === '') {
            i--;
            continue;
          }
          break;
        case 'value':
          if (this.quote !== '' ? c === this.quote : isSpace(c) || c === '>') {
            this.state = 'tag';
            if (this.quote === '') {
              i--;
              continue;
            }
          } else this.body += c;
          break;
        case 'raw': {
          const end = `</${this.tag}`;
          if (text.slice(i, i + end.length).toLowerCase() === end && !/[A-Za-z0-9]/.test(text[i + end.length] ?? '')) {
            out += text.slice(i, i + end.length);
            i += end.length - 1;
            this.state = 'tag';
            this.closing = true;
            continue;
          }
          this.body += c;
          break;
        }
      }
      out += c;
    }
    return out;
  }

  private enterTag(closing: boolean): void {
    this.state = 'tagName';
    this.tag = '';
    this.closing = closing;
  }

  private endTag(): void {
    if (!this.closing && RAW.has(this.tag)) {
      this.state = 'raw';
      this.body = '';
    } else this.state = 'text';
  }

  /**
   * The escaper for a value printed here, `null` when the value is dropped (inside an HTML
   * comment), or a string saying why no value may go here. Records the value's place.
   */
  escaper(): Escaper | null | string {
    if (this.danglingLt) return "a value right after '<' would become a tag name";
    switch (this.state) {
      case 'text':
        return esc.escapeHtml;
      case 'comment':
        return null;
      case 'beforeValue':
        this.state = 'value';
        this.quote = '';
        this.body = '';
        return this.valueEscaper();
      case 'value':
        return this.valueEscaper();
      case 'raw': {
        const e = this.tag === 'script' ? jsEscaper(this.body) : this.tag === 'style' ? cssEscaper(this.body) : esc.escapeHtml;
        this.body += '\0';
        return e;
      }
      case 'bogus':
        return 'a value inside a <!…> declaration';
      default:
        return 'a value inside a tag, outside any attribute value';
    }
  }

  private valueEscaper(): Escaper | string {
    const inner =
      this.kind === 'url'
        ? esc.urlEscaper(this.body)
        : this.kind === 'css'
          ? cssEscaper(this.body)
          : this.kind === 'js'
            ? jsEscaper(this.body)
            : esc.escapeHtml;
    this.body += '\0';
    if (typeof inner === 'string') return inner;
    const outer = this.quote === '' ? esc.escapeUnquotedAttr : esc.escapeHtml;
    return inner === esc.escapeHtml ? outer : (s) => outer(inner(s));
  }

  /** True right after a text ending in `<` or `</`, where whatever comes next makes a tag name. */
  get atTagStart(): boolean {
    return this.danglingLt;
  }

  /** True in plain HTML text: where another template may be included. */
  get inText(): boolean {
    return this.state === 'text' && !this.danglingLt;
  }

  /** What decides escaping from here on; two branches of an `{{if}}` must end with the same key. */
  key(): string {
    const where = this.state === 'value' ? `${this.attr}=${this.quote}` : this.state === 'text' || this.state === 'comment' ? '' : this.tag;
    let sub = '';
    if (this.state === 'value' || this.state === 'raw') {
      const kind = this.state === 'raw' ? (this.tag === 'script' ? 'js' : this.tag === 'style' ? 'css' : 'plain') : this.kind;
      if (kind === 'url') sub = esc.urlPart(this.body) === 'scheme?' ? `scheme?${this.body}` : esc.urlPart(this.body);
      else if (kind === 'js') sub = jsPlace(this.body);
      else if (kind === 'css') {
        const p = cssPlace(this.body);
        sub = p.k === 'url' ? `url:${esc.urlPart(p.url)}` : p.k;
      }
    }
    return `${this.state}${this.danglingLt ? '<' : ''} ${where} ${sub}`.trim();
  }

  /** A readable name of the current place, for error messages. */
  describe(): string {
    if (this.state === 'text') return 'HTML text';
    if (this.state === 'value') return `the ${this.attr} attribute of <${this.tag}>`;
    if (this.state === 'raw') return `the body of <${this.tag}>`;
    if (this.state === 'comment') return 'an HTML comment';
    return `the <${this.tag}> tag`;
  }
}
