/**
 * USERID_TRANSFORMERS, as oidc-authservice applies them: the first rule whose regex matches the
 * user id is applied as a replace-all (Go `ReplaceAllString` template syntax: `$1`, `${1}`,
 * `$name`, `${name}`, `$$`); the rest are skipped; no match leaves the id unchanged. RE2 semantics.
 */
import { RE2JS } from 're2js';

/** One `USERID_TRANSFORMERS` entry: an RE2 pattern and its replacement template. */
export interface UserIdTransformer {
  readonly matches: string;
  readonly replaces: string;
}

type Compiled = { readonly re: RE2JS; readonly replaces: string };

/** Expands a Go replacement template for the current match. */
function expand(template: string, m: ReturnType<RE2JS['matcher']>, names: Record<string, number>): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (template[i + 1] === '{') {
      end = template.indexOf('}', i + 2);
      if (end < 0) {
        out += c;
        continue;
      }
      name = template.slice(i + 2, end);
    } else {
      const w = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!w) {
        out += c;
        continue;
      }
      name = w[0];
      end = i + name.length;
    }
    const idx = /^\d+$/.test(name) ? Number(name) : names[name];
    if (idx !== undefined && idx <= m.groupCount()) out += m.group(idx) ?? '';
    i = end;
  }
  return out;
}

export function compileUserIdTransformers(rules: readonly UserIdTransformer[]): (user: string) => string {
  if (rules.length === 0) return (u) => u;
  const compiled: Compiled[] = rules.map((r) => ({ re: RE2JS.compile(r.matches), replaces: r.replaces }));
  return (user) => {
    for (const { re, replaces } of compiled) {
      const m = re.matcher(user);
      if (!m.find()) continue;
      const names = re.namedGroups() as Record<string, number>;
      let out = '';
      let last = 0;
      let prevEnd = -1;
      m.reset();
      while (m.find()) {
        // Go ignores an empty match that abuts the previous match.
        if (m.start() === m.end() && m.start() === prevEnd) continue;
        out += user.slice(last, m.start()) + expand(replaces, m, names);
        last = prevEnd = m.end();
      }
      return out + user.slice(last);
    }
    return user;
  };
}
