/**
 * The issuers whose tokens we accept: the main provider (`OIDC_PROVIDER`) and each of `JWT_ISSUERS`.
 * Each has its own discovery; once discovered, its keys come from a `JwksCache` on its `jwks_uri`.
 */
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { JsonGetter } from '../net/http-client.js';
import type { Logger } from '../obs/log.js';
import type { Metrics } from '../obs/metrics.js';
import { Discovery, type ProviderMetadata, type Schedule } from './discovery.js';
import { JwksCache } from './keys.js';

export type IssuerStatus =
  | { readonly state: 'unknown' }
  | { readonly state: 'pending' }
  | { readonly state: 'ready'; readonly jwks: JwksCache; readonly metadata: ProviderMetadata };

/** What bearer authenticators need from the registry. */
export interface IssuerKeys {
  status(issuer: string): IssuerStatus;
}

export type IssuerRegistryConfig = Pick<Config, 'oidcProvider' | 'jwtIssuers' | 'discoveryRetryInterval' | 'jwksRefreshInterval' | 'jwksMinRefetchInterval'>;

export interface IssuerRegistryDeps {
  readonly http: JsonGetter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, 'discovery' | 'jwksRefresh'>;
  /** Retry scheduling for discovery (tests record and run tasks themselves). */
  readonly schedule?: Schedule;
}

interface Entry {
  readonly discovery: Discovery;
  jwks: JwksCache | undefined;
  status: IssuerStatus;
}

const UNKNOWN: IssuerStatus = Object.freeze({ state: 'unknown' });
const PENDING: IssuerStatus = Object.freeze({ state: 'pending' });

export class IssuerRegistry implements IssuerKeys {
  readonly #entries = new Map<string, Entry>();
  readonly #primary: Entry;
  #started = false;

  constructor(config: IssuerRegistryConfig, deps: IssuerRegistryDeps) {
    const { http, clock, log, metrics, schedule } = deps;
    for (const issuer of [config.oidcProvider, ...config.jwtIssuers]) {
      if (this.#entries.has(issuer)) continue;
      const discovery = new Discovery({
        issuer,
        retryIntervalSeconds: config.discoveryRetryInterval,
        http,
        log,
        ...(metrics ? { metrics } : {}),
        ...(schedule ? { schedule } : {}),
      });
      const entry: Entry = { discovery, jwks: undefined, status: PENDING };
      discovery.on('ready', (md) => {
        const jwks = new JwksCache({
          uri: md.jwks_uri,
          http,
          clock,
          log,
          ...(metrics ? { metrics } : {}),
          refreshIntervalSeconds: config.jwksRefreshInterval,
          minRefetchIntervalSeconds: config.jwksMinRefetchInterval,
        });
        entry.jwks = jwks;
        entry.status = Object.freeze({ state: 'ready', jwks, metadata: md });
        if (this.#started) jwks.start();
      });
      this.#entries.set(issuer, entry);
    }
    this.#primary = this.#entries.get(config.oidcProvider)!;
  }

  /** The configured issuers, main provider first. */
  get issuers(): readonly string[] {
    return [...this.#entries.keys()];
  }

  /** The main provider's discovery (its `ready` promise and event drive readiness). */
  get primary(): Discovery {
    return this.#primary.discovery;
  }

  /** True once the main provider has been discovered. */
  get primaryReady(): boolean {
    return this.#primary.discovery.isReady;
  }

  discovery(issuer: string): Discovery | undefined {
    return this.#entries.get(issuer)?.discovery;
  }

  status(issuer: string): IssuerStatus {
    return this.#entries.get(issuer)?.status ?? UNKNOWN;
  }

  /** Starts discovery of every issuer (and key refreshes as each is discovered). Does not wait. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const entry of this.#entries.values()) {
      entry.jwks?.start();
      entry.discovery.start();
    }
  }

  stop(): void {
    this.#started = false;
    for (const entry of this.#entries.values()) {
      entry.discovery.stop();
      entry.jwks?.stop();
    }
  }
}
