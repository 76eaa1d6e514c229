/**
 * A browser made of plain HTTP requests, for login-flow tests that need no rendering: a cookie jar
 * (per host name, ports shared as browsers do, `Path`, `Max-Age`/`Expires` deletions), redirects
 * followed by hand, and `signInAt`, which walks the development provider's sign-in (its form is a
 * plain POST of username and password) up to — not into — our callback. Requests carry what
 * Chromium sends for a top-level navigation unless told otherwise.
 */
import { send, type Sent } from './http-send.js';

export const NAVIGATION = { accept: 'text/html,application/xhtml+xml', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none' } as const;

interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
}

export interface Response extends Sent {
  readonly url: URL;
  /** `Location` resolved against the request URL, when there is one. */
  readonly location?: URL;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** Leave the jar's cookies out (a request some other party makes). */
  readonly noCookies?: boolean;
}

export class HttpBrowser {
  readonly #jar = new Map<string, Cookie[]>();

  cookies(host: string): readonly Cookie[] {
    return this.#jar.get(host) ?? [];
  }

  cookie(host: string, name: string): string | undefined {
    return this.cookies(host).find((c) => c.name === name)?.value;
  }

  /** Plants a cookie as if a site had set it (fixation, cookie tossing). */
  plant(host: string, name: string, value: string, path = '/'): void {
    this.#store(host, { name, value, path }, false);
  }

  #store(host: string, c: Cookie, remove: boolean): void {
    const list = (this.#jar.get(host) ?? []).filter((x) => !(x.name === c.name && x.path === c.path));
    if (!remove) list.push(c);
    this.#jar.set(host, list);
  }

  #absorb(url: URL, setCookie: readonly string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      let path = '/';
      let remove = false;
      for (const a of attrs) {
        const [k = '', v = ''] = a.trim().split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) remove = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) remove = true;
      }
      this.#store(url.hostname, { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), path }, remove);
    }
  }

  #cookieHeader(url: URL): string | undefined {
    const matching = this.cookies(url.hostname).filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'));
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** One request, no redirect followed; cookies set by the answer go into the jar. */
  async request(target: string | URL, o: RequestOptions = {}): Promise<Response> {
    const url = new URL(target);
    const headers: Record<string, string> = { host: url.host, ...NAVIGATION, ...o.headers };
    const jar = o.noCookies ? undefined : this.#cookieHeader(url);
    if (jar !== undefined) headers['cookie'] = headers['cookie'] ? `${headers['cookie']}; ${jar}` : jar;
    let body: string | undefined;
    if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await send(Number(url.port), url.pathname + url.search, {
      method: o.method ?? (o.form ? 'POST' : 'GET'),
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    this.#absorb(url, res.headers['set-cookie']);
    const loc = res.headers['location'];
    return { ...res, url, ...(loc !== undefined ? { location: new URL(loc, url) } : {}) };
  }

  /**
   * GETs `target` and follows redirects until an answer is not a redirect, or the next location
   * satisfies `stop` (that location is returned without being requested).
   */
  async follow(target: string | URL, stop: (u: URL) => boolean = () => false, maxHops = 20): Promise<{ res: Response; stoppedAt?: URL }> {
    let res = await this.request(target);
    for (let hop = 0; hop < maxHops; hop++) {
      if (res.status < 300 || res.status > 399 || res.location === undefined) return { res };
      if (stop(res.location)) return { res, stoppedAt: res.location };
      res = await this.request(res.location);
    }
    throw new Error(`more than ${maxHops} redirects from ${String(target)}`);
  }

  /**
   * From the provider's authorization URL (or anything redirecting there), signs in at the
   * development provider and follows its redirects up to our callback: resolves with the callback
   * URL (code and state unused).
   */
  async signInAt(start: string | URL, user: { readonly email: string; readonly password: string }, callbackPath: string): Promise<URL> {
    const atCallback = (u: URL): boolean => u.pathname === callbackPath;
    const shown = await this.follow(start, atCallback);
    if (shown.stoppedAt) return shown.stoppedAt;
    if (shown.res.status !== 200 || !/^\/interaction\//.test(shown.res.url.pathname))
      throw new Error(`expected the sign-in form, got ${shown.res.status} at ${shown.res.url.href}`);
    const posted = await this.request(shown.res.url, {
      form: { username: user.email, password: user.password },
      headers: { 'sec-fetch-site': 'same-origin', origin: shown.res.url.origin },
    });
    if (!posted.location) throw new Error(`sign-in refused: ${posted.status}`);
    if (atCallback(posted.location)) return posted.location;
    const done = await this.follow(posted.location, atCallback);
    if (!done.stoppedAt) throw new Error(`the provider did not come back to the callback: ${done.res.status} at ${done.res.url.href}`);
    return done.stoppedAt;
  }
}
