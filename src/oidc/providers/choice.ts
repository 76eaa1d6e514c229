/**
 * Which provider a check belongs to, from its host and normalized path: every entry's hosts (exact
 * names, `*.<domain>` wildcards, or any host) crossed with its path prefixes (or any path) are
 * places; the most specific place that holds the request wins — exact host over wildcard (longer
 * domain first) over any host, then the longest path prefix. Providers sharing one place share its
 * requests (the sign-in chooser picks among them). Two places that can hold the same request with
 * neither more specific on both host and path are ambiguous: `ambiguities` names them and the
 * loader refuses the configuration. No place holds the request: the provider `default`.
 */
export interface ProviderScope {
  readonly id: string;
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
}

interface Place {
  /** '' any host; `*.x.y` a wildcard; else an exact name. */
  readonly host: string;
  /** '' any path; else a prefix without a trailing `/`. */
  readonly path: string;
  readonly ids: string[];
}

export type ProviderChoice = (hostname: string, path: string) => readonly string[] | undefined;

const wild = (h: string): boolean => h.startsWith('*.');
const anyPath = (p: string): string => (p === '/' ? '' : p);

function placesOf(scopes: readonly ProviderScope[]): Place[] {
  const byKey = new Map<string, Place>();
  for (const s of scopes) {
    for (const host of s.hosts.length > 0 ? s.hosts : ['']) {
      for (const p of s.paths.length > 0 ? s.paths : ['']) {
        const path = anyPath(p);
        const key = `${host} ${path}`;
        const place = byKey.get(key);
        if (place === undefined) byKey.set(key, { host, path, ids: [s.id] });
        else if (!place.ids.includes(s.id)) place.ids.push(s.id);
      }
    }
  }
  return [...byKey.values()];
}

function pathHolds(prefix: string, path: string): boolean {
  return prefix === '' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f);
}

/** Host specificity: any 0, wildcard 1 + its length, exact 1000 + its length. */
const hostRank = (h: string): number => (h === '' ? 0 : wild(h) ? 1 + h.length : 1000 + h.length);

function hostsOverlap(a: string, b: string): boolean {
  if (a === '' || b === '' || a === b) return true;
  if (wild(a) && wild(b)) return a.slice(1).endsWith(b.slice(1)) || b.slice(1).endsWith(a.slice(1));
  if (wild(a)) return b.endsWith(a.slice(1));
  if (wild(b)) return a.endsWith(b.slice(1));
  return false;
}

const pathsOverlap = (a: string, b: string): boolean => pathHolds(a, b === '' ? '/' : b) || pathHolds(b, a === '' ? '/' : a) || a === '' || b === '';

/** Pairs of places no request could choose between (each one problem, for the loader). */
export function ambiguities(scopes: readonly ProviderScope[]): string[] {
  const places = placesOf(scopes);
  const out: string[] = [];
  const name = (p: Place): string => `${p.ids.join('/')} (host ${p.host === '' ? 'any' : p.host}, path ${p.path === '' ? 'any' : p.path})`;
  for (let i = 0; i < places.length; i++) {
    for (let j = i + 1; j < places.length; j++) {
      const a = places[i]!;
      const b = places[j]!;
      if (!hostsOverlap(a.host, b.host) || !pathsOverlap(a.path, b.path)) continue;
      const dh = hostRank(a.host) - hostRank(b.host);
      const dp = a.path.length - b.path.length;
      if ((dh > 0 && dp < 0) || (dh < 0 && dp > 0))
        out.push(`providers: ${name(a)} and ${name(b)} both hold some requests and neither is more specific in host and path`);
    }
  }
  return out;
}

/** Places sorted by path, longest first. */
const byPath = (l: Place[]): Place[] => l.sort((x, y) => y.path.length - x.path.length);

function firstHolding(l: readonly Place[] | undefined, path: string): readonly string[] | undefined {
  if (l === undefined) return undefined;
  for (const p of l) if (pathHolds(p.path, path)) return p.ids;
  return undefined;
}

export function compileChoice(scopes: readonly ProviderScope[]): ProviderChoice {
  const exact = new Map<string, Place[]>();
  const wildcards = new Map<string, Place[]>();
  const anyHost: Place[] = [];
  for (const p of placesOf(scopes)) {
    if (p.host === '') anyHost.push(p);
    else {
      const m = wild(p.host) ? wildcards : exact;
      const key = wild(p.host) ? p.host.slice(1) : p.host;
      m.set(key, [...(m.get(key) ?? []), p]);
    }
  }
  for (const l of [...exact.values(), ...wildcards.values(), anyHost]) byPath(l);
  return (hostname, path) => {
    const hit = firstHolding(exact.get(hostname), path);
    if (hit !== undefined) return hit;
    // `*.example.com` is stored as `.example.com`: try each parent domain, the longest first.
    if (wildcards.size > 0) {
      for (let dot = hostname.indexOf('.'); dot !== -1; dot = hostname.indexOf('.', dot + 1)) {
        const w = firstHolding(wildcards.get(hostname.slice(dot)), path);
        if (w !== undefined) return w;
      }
    }
    return firstHolding(anyHost, path);
  };
}
