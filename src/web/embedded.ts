/**
 * Values inside CSS (style attributes, `<style>`) and JavaScript (event-handler attributes,
 * `<script>`): a light scan of the static text before a value says whether it lands in a plain
 * CSS value, a CSS string, a `url()`, a JavaScript string or code — or a comment, where no value
 * may go — and so which escaper of escape.ts applies.
 */
import * as esc from './escape.js';

export type Escaper = (s: string) => string;

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

/** Where a value lands in CSS: a plain value, a string, a `url()` (with the URL text so far), a comment. */
export type CssPlace = { k: 'value' } | { k: 'string' } | { k: 'url'; url: string } | { k: 'comment' };

export function cssPlace(css: string): CssPlace {
  let place: CssPlace = { k: 'value' };
  let quote = '';
  for (let i = 0; i < css.length; i++) {
    const c = css[i]!;
    if (place.k === 'value') {
      if (css.startsWith('/*', i)) {
        const end = css.indexOf('*/', i + 2);
        if (end < 0) return { k: 'comment' };
        i = end + 1;
      } else if (css.slice(i, i + 4).toLowerCase() === 'url(') {
        i += 4;
        while (i < css.length && isSpace(css[i]!)) i++;
        quote = css[i] === '"' || css[i] === "'" ? css[i]! : '';
        if (quote === '') i--;
        place = { k: 'url', url: '' };
      } else if (c === '"' || c === "'") {
        quote = c;
        place = { k: 'string' };
      }
    } else if (c === '\\') i++;
    else if (place.k === 'string') {
      if (c === quote) place = { k: 'value' };
    } else if (place.k === 'url') {
      if (quote === '' ? c === ')' : c === quote) place = { k: 'value' };
      else place.url += c;
    }
  }
  return place;
}

export function cssEscaper(css: string): Escaper | string {
  const place = cssPlace(css);
  if (place.k === 'comment') return 'a value inside a CSS comment';
  if (place.k === 'string') return esc.escapeCssString;
  if (place.k === 'url') return esc.urlEscaper(place.url);
  return esc.filterCssValue;
}

/** Where a value lands in JavaScript: code, inside a quote of some kind, or a comment. */
export function jsPlace(js: string): string {
  let place = 'code';
  for (let i = 0; i < js.length; i++) {
    const c = js[i]!;
    if (place === 'code') {
      if (js.startsWith('//', i)) place = 'line-comment';
      else if (js.startsWith('/*', i)) place = 'block-comment';
      else if (c === '"' || c === "'" || c === '`') place = c;
    } else if (place === 'line-comment') {
      if (c === '\n') place = 'code';
    } else if (place === 'block-comment') {
      if (js.startsWith('*/', i)) {
        place = 'code';
        i++;
      }
    } else if (c === '\\') i++;
    else if (c === place) place = 'code';
  }
  return place;
}

export function jsEscaper(js: string): Escaper | string {
  const place = jsPlace(js);
  if (place.endsWith('comment')) return 'a value inside a JavaScript comment';
  return place === 'code' ? esc.jsStringLiteral : esc.escapeJsString;
}
