/**
 * Builds the service from a frozen config: the decision core with its authenticators and
 * authorizers (`buildJudge`), then the listeners (`startApp`). The CLI and the tests both use it.
 */
import { readFileSync } from 'node:fs';
import { AccessTokenAuthenticator } from './authn/access-token.js';
import { IdTokenAuthenticator } from './authn/id-token.js';
import type { Authenticator } from './authn/types.js';
import { groupsAuthorizer } from './authz/groups.js';
import { rulesAuthorizer } from './authz/rules.js';
import type { Authorizer } from './authz/types.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/schema.js';
import { createJudge, type Judge } from './judge/decide.js';
import { withDeadline } from './judge/deadline.js';
import { createGrpcJudge } from './judge/grpc.js';
import { createHttpJudge } from './judge/http.js';
import { compileIdentityHeaders } from './judge/identity-headers.js';
import { targetOf } from './judge/path.js';
import { createResponses } from './judge/responses.js';
import { compileSkipRules } from './judge/skip.js';
import { HttpClient } from './net/http-client.js';
import { createHealthServer } from './obs/health.js';
import type { Logger } from './obs/log.js';
import { createMetrics, type Metrics } from './obs/metrics.js';
import { observe } from './obs/observe.js';
import { Readiness } from './obs/readiness.js';
import { IssuerRegistry } from './oidc/issuers.js';

export interface AppDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
}

export interface Core {
  readonly judge: Judge;
  readonly issuers: IssuerRegistry;
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  /** Stops background work (discovery retries, key refreshes) and closes provider connections. */
  close(): void;
}

function caPem(config: Config): string | undefined {
  if (config.caBundle === '') return undefined;
  try {
    return readFileSync(config.caBundle, 'utf8');
  } catch (e) {
    throw new Error(`CA_BUNDLE: cannot read ${config.caBundle} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The authenticators, in `AUTHN_CHAIN` order, skipping those turned off or not available. */
function authenticators(config: Config, issuers: IssuerRegistry, clock: Clock, log: Logger): Authenticator[] {
  const deps = { clock, issuers, log };
  const out: Authenticator[] = [];
  for (const name of config.authnChain) {
    switch (name) {
      case 'access_token':
        if (!config.accessTokenAuthnEnabled) break;
        if (config.accessTokenAuthn === 'jwt') out.push(new AccessTokenAuthenticator(config, deps));
        else log.warn('ACCESS_TOKEN_AUTHN=opaque is not available in this version: opaque access tokens are not accepted');
        break;
      case 'id_token':
        if (config.idtokenAuthnEnabled) out.push(new IdTokenAuthenticator(config, deps));
        break;
      case 'kubernetes':
        if (config.kubernetesAuthnEnabled) log.info('Kubernetes service-account tokens: not available in this version; the authenticator is off');
        break;
      case 'session':
        log.debug('browser sessions: not available in this version');
        break;
    }
  }
  return out;
}

function authorizers(config: Config): Authorizer[] {
  const rules = rulesAuthorizer(config.authzRules);
  return [groupsAuthorizer(config.groupsAllowlist), ...(rules ? [rules] : [])];
}

export function buildCore(config: Config, deps: AppDeps): Core {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const readiness = new Readiness();
  const ca = caPem(config);
  const http = new HttpClient({ ...(ca !== undefined ? { caPem: ca } : {}), userAgent: 'oidc-judge' });
  const issuers = new IssuerRegistry(config, { http, clock, log: deps.log, metrics });
  readiness.set(false, 'OIDC discovery has not succeeded yet');
  issuers.primary.once('ready', () => readiness.set(true));
  const responses = createResponses();
  const judge = createJudge({
    targetOf,
    skip: compileSkipRules(config),
    authenticators: authenticators(config, issuers, clock, deps.log),
    authorizers: authorizers(config),
    identityHeaders: compileIdentityHeaders(config),
    responses,
  });
  const bounded = withDeadline(judge, config.checkTimeout, responses);
  return {
    judge: observe(bounded, deps.log, metrics, config.logDecisions),
    issuers,
    readiness,
    metrics,
    close() {
      issuers.stop();
      http.close();
    },
  };
}

export interface App extends Core {
  readonly ports: { readonly http: number; readonly grpc: number; readonly health: number };
  /** Unready, stop accepting, drain in-flight checks (up to DRAIN_TIMEOUT), stop background work. */
  stop(): Promise<void>;
}

export async function startApp(config: Config, deps: AppDeps): Promise<App> {
  const core = buildCore(config, deps);
  const host = config.serverHostname;
  const grpc = createGrpcJudge({ judge: core.judge, readiness: core.readiness, log: deps.log });
  const http = createHttpJudge({
    judge: core.judge,
    log: deps.log,
    options: {
      verifyPath: config.verifyAuthUrl,
      forwardAuthPath: config.forwardAuthUrl,
      checkPathPrefix: config.httpCheckPathPrefix,
      trustedProxies: config.trustedProxies,
    },
  });
  const health = createHealthServer(core.readiness, core.metrics);
  const ports = {
    health: await health.listen(host, config.readinessProbePort),
    http: await http.listen(host, config.serverPort),
    grpc: await grpc.listen(host, config.grpcPort),
  };
  core.issuers.start();
  deps.log.info({ ports }, 'listening');
  return {
    ...core,
    ports,
    async stop() {
      core.readiness.set(false, 'shutting down');
      const drainMs = config.drainTimeout * 1000;
      await Promise.all([grpc.shutdown(drainMs), http.close(drainMs)]);
      core.close();
      await health.close();
    },
  };
}
