/**
 * OpenID Provider discovery for one issuer. Start-up never waits for it: `start()` makes a first
 * attempt and retries every `retryIntervalSeconds` until one succeeds; the metadata is then kept
 * (as oidc-authservice did, it is not refreshed). Readiness listens to `ready`.
 */
import { EventEmitter } from 'node:events';
import { codeOf, JudgeError } from '../errors.js';
import { loggableUrl, type JsonGetter } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { Metrics } from '../obs/metrics.js';

/** The discovery document; `issuer` and `jwks_uri` are checked, the rest is passed through. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly [member: string]: unknown;
}

/**
 * Runs `task` once after `delayMs`; returns a cancel function. The default uses an unref'ed timer;
 * tests pass one that only records the task, and run it when they like.
 */
export type Schedule = (task: () => Promise<void>, delayMs: number) => () => void;

export const timerSchedule: Schedule = (task, delayMs) => {
  const t = setTimeout(() => void task(), delayMs);
  t.unref();
  return () => clearTimeout(t);
};

export class DiscoveryError extends JudgeError<'invalid-document' | 'issuer-mismatch'> {
  override readonly name = 'DiscoveryError';
}

export interface DiscoveryOptions {
  /** The configured issuer; the document's `issuer` must equal it exactly. */
  readonly issuer: string;
  readonly retryIntervalSeconds: number;
  /** Endpoints given by hand (`OIDC_ENDPOINTS`): the metadata, checked like a fetched document; nothing is fetched. */
  readonly fixed?: Readonly<Record<string, string>>;
  readonly http: JsonGetter;
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, 'discovery'>;
  readonly schedule?: Schedule;
}

/** `<issuer without trailing slash>/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): string {
  return issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration';
}

/** Checks a discovery document against the configured issuer. */
export function parseMetadata(doc: unknown, issuer: string): ProviderMetadata {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DiscoveryError('invalid-document', 'discovery document is not a JSON object');
  const md = doc as Record<string, unknown>;
  if (typeof md['issuer'] !== 'string') throw new DiscoveryError('invalid-document', 'discovery document has no "issuer"');
  if (md['issuer'] !== issuer) {
    throw new DiscoveryError('issuer-mismatch', `discovered issuer ${JSON.stringify(md['issuer'])} does not equal the configured ${JSON.stringify(issuer)}`);
  }
  const jwks = md['jwks_uri'];
  let jwksUrl: URL | undefined;
  try {
    jwksUrl = typeof jwks === 'string' ? new URL(jwks) : undefined;
  } catch {
    jwksUrl = undefined;
  }
  if (!jwksUrl || (jwksUrl.protocol !== 'https:' && jwksUrl.protocol !== 'http:')) {
    throw new DiscoveryError('invalid-document', 'discovery document has no valid http(s) "jwks_uri"');
  }
  return Object.freeze({ ...md, issuer, jwks_uri: jwksUrl.href });
}

export class Discovery extends EventEmitter<{ ready: [metadata: ProviderMetadata] }> {
  readonly issuer: string;
  readonly url: string;
  /** Resolves once discovery has succeeded; never rejects. */
  readonly ready: Promise<ProviderMetadata>;

  readonly #opts: DiscoveryOptions;
  readonly #schedule: Schedule;
  #resolve!: (md: ProviderMetadata) => void;
  #metadata: ProviderMetadata | undefined;
  #inflight: Promise<boolean> | undefined;
  #cancel: (() => void) | undefined;
  #running = false;

  constructor(opts: DiscoveryOptions) {
    super();
    this.#opts = opts;
    this.#schedule = opts.schedule ?? timerSchedule;
    this.issuer = opts.issuer;
    this.url = discoveryUrl(opts.issuer);
    this.ready = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** The provider's metadata, once discovered. */
  get metadata(): ProviderMetadata | undefined {
    return this.#metadata;
  }

  get isReady(): boolean {
    return this.#metadata !== undefined;
  }

  /** Starts attempting (now, then every retry interval until success). Does not wait. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** One discovery attempt (joined if one is under way); true once discovered. Never throws. */
  attempt(): Promise<boolean> {
    if (this.#metadata) return Promise.resolve(true);
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #loop(): Promise<void> {
    this.#cancel = undefined;
    if (!this.#running) return;
    const ok = await this.attempt();
    if (!ok && this.#running) this.#cancel = this.#schedule(() => this.#loop(), this.#opts.retryIntervalSeconds * 1000);
  }

  async #fetch(): Promise<boolean> {
    const { http, log, metrics, issuer } = this.#opts;
    let md: ProviderMetadata;
    try {
      const fixed = this.#opts.fixed;
      md = parseMetadata(fixed !== undefined ? { ...fixed, issuer } : (await http.getJson(this.url, 'oidc.discovery')).json, issuer);
    } catch (err) {
      metrics?.discovery.inc({ result: 'error' });
      log.warn(
        {
          issuer,
          url: loggableUrl(this.url),
          err: err instanceof Error ? err.message : String(err),
          code: codeOf(err),
          retryInSeconds: this.#running ? this.#opts.retryIntervalSeconds : undefined,
        },
        'OIDC discovery failed',
      );
      return false;
    }
    this.#metadata = md;
    metrics?.discovery.inc({ result: 'ok' });
    log.info({ issuer, jwksUri: loggableUrl(md.jwks_uri) }, 'OIDC provider discovered');
    this.#resolve(md);
    this.emit('ready', md);
    return true;
  }
}
