/**
 * `mode: kube` — the Kubernetes API impersonation proxy (what kube-oidc-proxy does): OIDC bearer
 * tokens verified with kube-apiserver's flag semantics, requests forwarded to the API server with
 * the proxy's own credentials plus `Impersonate-*` headers, optional inbound impersonation by
 * SubjectAccessReview, token passthrough by TokenReview, upgrades (SPDY, websocket) tunnelled,
 * streams flushed as they come, the `AuSuccess`/`AuFail` access log and audit events; each
 * request decided by the one judge (judge.ts), with its decision log line and check metrics.
 *
 * This file only wires the parts together (options.ts parses; pipeline.ts is the
 * pipeline). Not ready until the issuer's discovery document and keys have loaded; then latched.
 */
import { HttpClient } from '../../net/http-client.js';
import { trustMatcher } from '../../net/cidr.js';
import { KubeClient } from '../../kube/client.js';
import type { ModeDefinition, ModeHandler } from '../engine/mode.js';
import { createAccessLog } from './access-log.js';
import { fileAuditSink, logAuditSink, type AuditSink } from './audit.js';
import { createKubeHandler } from './pipeline.js';
import { KubeOidcAuthenticator } from './oidc.js';
import { parseKubeOptions, type KubeOptions } from './options.js';
import { TokenPassthrough } from './passthrough.js';
import { RateLimiter, ReviewCache } from '../../kube/review-cache.js';
import { ImpersonationReviewer } from './sar.js';
import { fileMtimeMs, kubeCredentialsFor, upstreamTls } from './upstream.js';
import { createProxyEngine, type ProxyOptions } from '../engine/proxy.js';
import { createMetrics } from '../../obs/metrics.js';

export type { KubeOptions } from './options.js';

/** Upgrade protocols `kubectl exec`, `attach` and `port-forward` use. */
export const KUBE_UPGRADE_PROTOCOLS = ['spdy', 'websocket'] as const;

export const kubeMode: ModeDefinition<KubeOptions> = {
  mode: 'kube',
  parse: parseKubeOptions,
  create(options, deps) {
    const { log, clock, readFile } = deps;
    // In a pod: client-go's InClusterConfig reads the API service's address from the environment.
    const host = options.client.serviceHost ?? deps.env?.['KUBERNETES_SERVICE_HOST'];
    const port = options.client.servicePort ?? deps.env?.['KUBERNETES_SERVICE_PORT'];
    const client = { ...options.client, ...(host !== undefined ? { serviceHost: host } : {}), ...(port !== undefined ? { servicePort: port } : {}) };
    const creds = kubeCredentialsFor(client, { readFile, statMtimeMs: fileMtimeMs });
    let caPem: string | undefined;
    if (options.oidc.caFile !== undefined) {
      try {
        caPem = readFile(options.oidc.caFile);
      } catch (e) {
        throw new Error(`oidcCaFile: cannot read ${options.oidc.caFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    let audit: AuditSink | undefined;
    if (options.audit !== undefined) {
      const a = options.audit;
      audit = a.path === '-' ? logAuditSink(log) : fileAuditSink(a.path, a.maxSizeMb, a.maxBackups, log);
    }
    const http = new HttpClient({ timeoutMs: 10_000, ...(caPem !== undefined ? { caPem } : {}) });
    const oidc = new KubeOidcAuthenticator(options.oidc, { http, clock, log });
    const api = new KubeClient(creds, { timeoutMs: options.client.timeoutSeconds * 1000 });
    const limiter = new RateLimiter(clock, options.client.qps, options.client.burst);
    const cacheMs = options.reviewCacheSeconds * 1000;
    const reviewer = options.tokenPassthrough
      ? new TokenPassthrough(options.tokenPassthroughAudiences, { client: api, limiter, cache: new ReviewCache(clock, cacheMs), log })
      : undefined;
    const sar =
      !options.disableImpersonation && options.inboundImpersonation === 'subjectaccessreview'
        ? new ImpersonationReviewer({
            client: api,
            limiter,
            cache: new ReviewCache<true>(clock, cacheMs),
            log,
            timeoutMs: options.client.timeoutSeconds * 1000,
          })
        : undefined;
    const common: ProxyOptions = {
      upstream: creds.server,
      log,
      upgradeProtocols: KUBE_UPGRADE_PROTOCOLS,
      connectTimeoutMs: options.upstreamConnectTimeoutSeconds * 1000,
      idleTimeoutMs: options.upstreamIdleTimeoutSeconds * 1000,
      maxRequestBodyBytes: options.maxRequestBodyBytes,
      flushStreamingHeads: true,
    };
    const credentialed = createProxyEngine({ ...common, tls: upstreamTls(creds, true) });
    const bare = createProxyEngine({ ...common, tls: upstreamTls(creds, false) });
    const handler = createKubeHandler({
      options,
      oidc,
      ...(reviewer !== undefined ? { reviewer } : {}),
      ...(sar !== undefined ? { sar } : {}),
      credentials: creds,
      credentialed,
      bare,
      accessLog: createAccessLog(log, clock, options.accessLog),
      ...(audit !== undefined ? { audit } : {}),
      trust: trustMatcher(options.trustedProxies),
      clock,
      log,
      metrics: deps.metrics ?? createMetrics(false),
      logDecisions: deps.logDecisions ?? true,
    });
    oidc.start();
    log.info({ upstream: creds.server, credentials: creds.source, issuer: options.oidc.issuerUrl }, 'Kubernetes proxy configured');
    const mode: ModeHandler = {
      handle: handler.handle,
      upgrade: handler.upgrade,
      ready: () => oidc.ready,
      async close() {
        oidc.stop();
        credentialed.close();
        bare.close();
        api.close();
        http.close();
        await audit?.close();
      },
    };
    return mode;
  },
};
