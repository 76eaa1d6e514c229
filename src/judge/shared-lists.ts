/**
 * Small memo helpers for the header lists of an allow: a cached identity's lists are frozen and
 * shared check after check, so a list extended by one name or one `Cookie` value is remembered per
 * (list, value) instead of being rebuilt on every check.
 */
import type { HeaderPair } from './decision.js';

/** `list` and `name`, frozen and remembered, so the lists of a cached identity stay shared check after check. */
const extended = new WeakMap<readonly string[], Map<string, readonly string[]>>();
export function plus(list: readonly string[], name: string): readonly string[] {
  let byName = extended.get(list);
  if (byName === undefined) extended.set(list, (byName = new Map()));
  let out = byName.get(name);
  if (out === undefined) byName.set(name, (out = list.includes(name) ? list : Object.freeze([...list, name])));
  return out;
}

/** `list` with `['cookie', value]`, frozen and remembered per value (a browser sends the same Cookie check after check; bounded). */
const withCookies = new WeakMap<readonly HeaderPair[], Map<string, readonly HeaderPair[]>>();
export function withCookie(list: readonly HeaderPair[], value: string): readonly HeaderPair[] {
  let byValue = withCookies.get(list);
  if (byValue === undefined) withCookies.set(list, (byValue = new Map()));
  let out = byValue.get(value);
  if (out === undefined) {
    if (byValue.size >= 1024) byValue.clear();
    byValue.set(value, (out = Object.freeze([...list, Object.freeze(['cookie', value] as const)])));
  }
  return out;
}

/** Whether `list` holds `name`, remembered per (shared, frozen) list. */
const holding = new WeakMap<readonly string[], Map<string, boolean>>();
export function holds(list: readonly string[], name: string): boolean {
  let byName = holding.get(list);
  if (byName === undefined) holding.set(list, (byName = new Map()));
  let v = byName.get(name);
  if (v === undefined) byName.set(name, (v = list.includes(name)));
  return v;
}

/** `list` without `name`, frozen and remembered (the assertion header leaves the remove list of an allow that sets it). */
const reduced = new WeakMap<readonly string[], Map<string, readonly string[]>>();
export function minus(list: readonly string[], name: string): readonly string[] {
  let byName = reduced.get(list);
  if (byName === undefined) reduced.set(list, (byName = new Map()));
  let out = byName.get(name);
  if (out === undefined) byName.set(name, (out = list.includes(name) ? Object.freeze(list.filter((n) => n !== name)) : list));
  return out;
}

/**
 * `list` with `[name, value]` in place of any pair named `name`, frozen and remembered per value: an
 * assertion is reused for a minute, so its list is too (the last one per list is kept).
 */
const withPairs = new WeakMap<readonly HeaderPair[], { value: string; out: readonly HeaderPair[] }>();
export function withPair(list: readonly HeaderPair[], name: string, value: string): readonly HeaderPair[] {
  const last = withPairs.get(list);
  if (last !== undefined && last.value === value) return last.out;
  const out = Object.freeze([...list.filter(([n]) => n !== name), Object.freeze([name, value] as const)]);
  withPairs.set(list, { value, out });
  return out;
}
