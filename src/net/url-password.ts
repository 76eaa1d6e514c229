/**
 * Passwords written inside URLs (`https://user:pass@host/…`, `redis://:pass@host:6379`) are secrets
 * too: wherever settings are shown — `check-config`, the start-up log line, configuration errors —
 * the password becomes `***` and the rest of the URL stays readable.
 */
// scheme://user:password@ — the password may not hold a separator of the text around it (space, comma, / ? #).
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:,]*):([^\s/?#,]*)@/gi;

/** `text` with the password of every URL in it replaced by `***`. */
export function redactUrlPasswords(text: string): string {
  return text.replace(USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/** `value` with `redactUrlPasswords` applied to every string in it (lists and plain objects are walked). */
export function redactUrlPasswordsDeep(value: unknown): unknown {
  if (typeof value === 'string') return redactUrlPasswords(value);
  if (Array.isArray(value)) return value.map(redactUrlPasswordsDeep);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactUrlPasswordsDeep(v)]));
  }
  return value;
}
