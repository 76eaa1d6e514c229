/**
 * The issuers whose tokens we accept: the main provider (`OIDC_PROVIDER`) and each of `jwtIssuers`.
 * Each has its own discovery; once discovered, its keys come from a `JwksCache` on its `jwks_uri`.
 * An entry with a static `jwksUri` is not discovered (ready at once); the `iss` values one entry
 * lists share its discovery and keys.
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

export type IssuerRegistryConfig = Pick<Config, 'oidcProvider' | 'jwtIssuers' | 'discoveryRetryInterval' | 'jwksRefreshInterval' | 'jwksMinRefetchInterval'> &
  Partial<Pick<Config, 'oidcEndpoints'>>;

export interface IssuerRegistryDeps {
  readonly http: JsonGetter;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: Pick<Metrics, 'discovery' | 'jwksRefresh'>;
  /** Retry scheduling for discovery (tests record and run tasks themselves). */
  readonly schedule?: Schedule;
}

interface Entry {
  /** Undefined for an issuer with a static `jwksUri`. */
  readonly discovery: Discovery | undefined;
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
    const keysAt = (uri: string): JwksCache =>
      new JwksCache({
        uri,
        http,
        clock,
        log,
        ...(metrics ? { metrics } : {}),
        refreshIntervalSeconds: config.jwksRefreshInterval,
        minRefetchIntervalSeconds: config.jwksMinRefetchInterval,
      });
    for (const setting of [config.oidcProvider, ...config.jwtIssuers]) {
      const names = typeof setting === 'string' ? [setting] : setting.issuers;
      const fresh = names.filter((n) => !this.#entries.has(n));
      if (fresh.length === 0) continue;
      const issuer = names[0]!;
      const jwksUri = typeof setting === 'string' ? undefined : setting.jwksUri;
      let entry: Entry;
      if (jwksUri !== undefined) {
        // A cluster issuer: keys at a fixed address, no discovery; ready from the start.
        const jwks = keysAt(jwksUri);
        entry = { discovery: undefined, jwks, status: Object.freeze({ state: 'ready', jwks, metadata: Object.freeze({ issuer, jwks_uri: jwksUri }) }) };
      } else {
        const fixed = setting === config.oidcProvider && config.oidcEndpoints !== undefined && Object.keys(config.oidcEndpoints).length > 0;
        const discovery = new Discovery({
          issuer,
          // OIDC_ENDPOINTS: the metadata is given, not fetched (ready at the first attempt).
          ...(fixed ? { fixed: config.oidcEndpoints } : {}),
          retryIntervalSeconds: config.discoveryRetryInterval,
          http,
          log,
          ...(metrics ? { metrics } : {}),
          ...(schedule ? { schedule } : {}),
        });
        const e: Entry = { discovery, jwks: undefined, status: PENDING };
        discovery.on('ready', (md) => {
          const jwks = keysAt(md.jwks_uri);
          e.jwks = jwks;
          e.status = Object.freeze({ state: 'ready', jwks, metadata: md });
          if (this.#started) jwks.start();
        });
        entry = e;
      }
      // Every `iss` of an entry (Entra ID's v1 and v2 issuers) shares its discovery and keys.
      for (const n of fresh) this.#entries.set(n, entry);
    }
    this.#primary = this.#entries.get(config.oidcProvider)!;
  }

  /** The configured issuers, main provider first. */
  get issuers(): readonly string[] {
    return [...this.#entries.keys()];
  }

  /** The main provider's discovery (its `ready` promise and event drive readiness). */
  get primary(): Discovery {
    return this.#primary.discovery!;
  }

  /** True once the main provider has been discovered. */
  get primaryReady(): boolean {
    return this.#primary.discovery!.isReady;
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
    for (const entry of new Set(this.#entries.values())) {
      entry.jwks?.start();
      entry.discovery?.start();
    }
  }

  stop(): void {
    this.#started = false;
    for (const entry of new Set(this.#entries.values())) {
      entry.discovery?.stop();
      entry.jwks?.stop();
    }
  }
}
