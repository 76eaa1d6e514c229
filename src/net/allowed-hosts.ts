/**
 * The allow-list of hosts a browser may be redirected to besides the request's own
 * (`ALLOWED_REDIRECT_HOSTS`): what an entry may be (`host[:port]`, `*.domain[:port]`), checked by the
 * config loader, and whether a parsed URL's host and port match one, checked by oidc/redirects.ts.
 */

/** C0 controls (CR, LF, TAB, NUL …), DEL and C1 controls. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

interface HostRule {
  /** Exact hostname, or the suffix (`.example.com`) a subdomain must end with. */
  readonly name: string;
  readonly wildcard: boolean;
  /** '' = the target scheme's default port. */
  readonly port: string;
}

const compiled = new WeakMap<readonly string[], readonly HostRule[]>();

function rules(allowedHosts: readonly string[]): readonly HostRule[] {
  let r = compiled.get(allowedHosts);
  if (r === undefined) {
    r = allowedHosts.map(compileEntry).filter((x): x is HostRule => x !== undefined);
    compiled.set(allowedHosts, r);
  }
  return r;
}

/** `host[:port]` or `*.host[:port]`, normalized the way URLs are (lower case, punycode); `undefined` when invalid. */
function compileEntry(entry: string): HostRule | undefined {
  if (typeof entry !== 'string') return undefined;
  const wildcard = entry.startsWith('*.');
  const host = wildcard ? entry.slice(2) : entry;
  if (host === '' || /[\s/?#@\\%*]/.test(host) || CONTROL.test(host)) return undefined;
  let u: URL;
  try {
    u = new URL(`https://${host}`);
  } catch {
    return undefined;
  }
  if (u.hostname === '' || u.hostname.endsWith('.') || u.pathname !== '/' || u.search !== '' || u.hash !== '') return undefined;
  const explicitPort = /:(\d+)$/.exec(host)?.[1];
  const port = explicitPort === undefined ? '' : String(Number(explicitPort));
  if (wildcard && (u.hostname.startsWith('[') || /^[\d.]+$/.test(u.hostname))) return undefined; // no subdomains of an IP address
  return { name: wildcard ? '.' + u.hostname : u.hostname, wildcard, port };
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** Whether an allow-list entry names `url`'s host and port (invalid entries never match). */
export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const port = url.port || defaultPort(url.protocol);
  for (const rule of rules(allowedHosts)) {
    if ((rule.port || defaultPort(url.protocol)) !== port) continue;
    if (rule.wildcard ? url.hostname.length > rule.name.length && url.hostname.endsWith(rule.name) : url.hostname === rule.name) return true;
  }
  return false;
}

/** Why an `allowedHosts` entry can never match, or `undefined` when it is valid (for config validation). */
export function allowedHostError(entry: string): string | undefined {
  return compileEntry(entry) === undefined ? `"${entry}" is not a host[:port] or *.domain[:port]` : undefined;
}
