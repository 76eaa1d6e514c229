/**
 * The egress forwarder mode (`mode: egress`): add a token, then proxy. One token source (static,
 * self-signed JWT, GCP instance identity, jwtproxy-style per-request JWT) and one of two
 * operations: reverse proxy to a configured upstream (oidc-proxy's egress), or forward proxy for
 * absolute-URI requests and intercepted CONNECT tunnels (jwtproxy's signer). Asymmetric signing
 * keys are published as a JWKS on the health port. Options: options.ts.
 */
import { rootCertificates } from 'node:tls';
import type { Schedule } from '../../oidc/discovery.js';
import { createConnectHandler, type ConnectHandler } from './connect.js';
import { EnginePool } from './engines.js';
import { forwardProxyHandler } from './forward-proxy.js';
import { hostAllowList } from './allow-hosts.js';
import { parseEgressOptions, type EgressOptions } from './options.js';
import { reverseEgress } from './reverse-proxy.js';
import { gcpSource } from './tokens/gcp.js';
import { jsonDocument, serveJsonDocument } from '../engine/json-doc.js';
import type { ForwarderDeps, ModeDefinition, ModeHandler } from '../engine/mode.js';
import { createProxyEngine } from '../engine/proxy.js';
import { jwtproxySource } from './tokens/jwtproxy.js';
import { selfSignedSource } from './tokens/self-signed.js';
import { staticSource } from './tokens/static.js';
import type { TokenSource } from './tokens/source.js';
import { loadCertificateAuthority, type CertificateAuthority } from './x509.js';

export type { EgressOptions } from './options.js';

export interface EgressDeps extends ForwarderDeps {
  /** Runs key rotation and registry polling (default: timers). Tests pass a manual schedule. */
  readonly schedule?: Schedule;
}

/** Published keys are cached by clients for this long. */
const JWKS_MAX_AGE_SECONDS = 300;

function read(deps: ForwarderDeps, option: string, path: string): string {
  try {
    return deps.readFile(path);
  } catch (e) {
    throw new Error(`${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export function createTokenSource(o: EgressOptions, deps: EgressDeps): Promise<TokenSource> {
  const marginMs = o.renewMarginSeconds * 1000;
  const t = o.token;
  switch (t.source) {
    case 'static':
      return Promise.resolve(staticSource(t, deps));
    case 'self-signed':
      return selfSignedSource(t, { ...deps, marginMs });
    case 'gcp':
      return Promise.resolve(gcpSource(t, { ...deps, marginMs }));
    case 'jwtproxy':
      return jwtproxySource(t, deps);
  }
}

export async function createEgress(o: EgressOptions, deps: EgressDeps): Promise<ModeHandler> {
  const extraCa = o.upstreamTls.caFile === undefined ? undefined : read(deps, 'upstreamTls.caFile', o.upstreamTls.caFile);
  let ca: CertificateAuthority | undefined;
  if (o.connectCa !== undefined) {
    const certPem = read(deps, 'connectCa.certFile', o.connectCa.certFile);
    const keyPem = read(deps, 'connectCa.keyFile', o.connectCa.keyFile);
    try {
      ca = loadCertificateAuthority(certPem, keyPem);
    } catch (e) {
      throw new Error(`connectCa: ${(e as Error).message}`);
    }
  }
  const source = await createTokenSource(o, deps);
  const { log } = deps;
  let handler: Pick<ModeHandler, 'handle' | 'upgrade' | 'connect'>;
  let closeProxy: () => void;
  if (o.upstream !== undefined) {
    const engine = createProxyEngine({
      upstream: o.upstream,
      log,
      host: o.host,
      tls: { ...(extraCa !== undefined ? { ca: [...rootCertificates, extraCa].join('\n') } : {}), rejectUnauthorized: !o.upstreamTls.insecureSkipVerify },
    });
    handler = reverseEgress({ source, engine, log });
    closeProxy = () => engine.close();
  } else {
    const pool = new EnginePool({ log, ...(extraCa !== undefined ? { extraCaPem: extraCa } : {}), insecureSkipVerify: o.upstreamTls.insecureSkipVerify });
    const allow = o.allowHosts === undefined ? undefined : { allow: hostAllowList(o.allowHosts) };
    const tunnels: ConnectHandler = createConnectHandler({ source, pool, log, clock: deps.clock, ...(ca !== undefined ? { ca } : {}), ...allow });
    if (ca === undefined) log.warn('egress forward proxy without connectCa: CONNECT (HTTPS) requests will be refused');
    if (allow === undefined) log.warn('egress forward proxy without allowHosts: it forwards to any host this pod can reach');
    handler = { handle: forwardProxyHandler({ source, pool, log, ...allow }), connect: tunnels.connect };
    closeProxy = () => {
      tunnels.close();
      pool.close();
    };
  }
  const publicKeys = source.publicKeys;
  return {
    ...handler,
    ...(publicKeys !== undefined
      ? {
          healthRoutes: {
            [o.jwksPath]: (req, res) =>
              serveJsonDocument(req, res, { ...jsonDocument({ keys: publicKeys() }), maxAgeSeconds: JWKS_MAX_AGE_SECONDS, nowMs: deps.clock.now() }),
          },
        }
      : {}),
    ready: () => source.ready(),
    async close() {
      closeProxy();
      await source.close();
    },
  };
}

export const egressMode: ModeDefinition<EgressOptions> = {
  mode: 'egress',
  parse: parseEgressOptions,
  create: createEgress,
};
