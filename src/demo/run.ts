/**
 * `oidc-judge demo`: everything on loopback with embedded defaults — the development OpenID
 * Provider with two demo users, the judge (gRPC and HTTP), the web server, and the ingress
 * forwarder in front of the "who am I" page, sessions in a SQLite file in a temporary directory.
 * Prints the URL to open and the demo credentials.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type App } from '../app/start.js';
import { loadConfig } from '../config/load.js';
import type { Logger } from '../obs/log.js';
import { startDevProvider, type DevProvider } from './provider.js';
import { DEMO_USERS } from './users.js';
import { startWhoami } from './whoami.js';

export interface DemoOptions {
  /** Port of the forwarder, the one URL to open (default 4180). */
  readonly port?: number;
  readonly log: Logger;
}

export interface Demo {
  readonly url: string;
  readonly app: App;
  readonly provider: DevProvider;
  stop(): Promise<void>;
}

const RULES = `
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { groups: [admins] }
  - match: { path: { prefix: / } }
    allow: { authenticated: true }
`;

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const port = opts.port ?? DEFAULT_DEMO_PORT;
  const origin = `http://localhost:${port}`;
  const secret = randomBytes(24).toString('base64url');
  const provider = await startDevProvider({
    issuerHost: 'localhost',
    clients: [
      {
        client_id: 'oidc-judge-demo',
        client_secret: secret,
        client_name: 'the oidc-judge demo',
        redirect_uris: [`${origin}/authservice/oidc/callback`],
        post_logout_redirect_uris: [`${origin}/authservice/site/after_logout`],
        // Signing out at the provider ends the demo session too (OpenID Back-Channel Logout).
        backchannel_logout_uri: `${origin}/authservice/oidc/backchannel-logout`,
        backchannel_logout_session_required: true,
      },
    ],
    log: opts.log,
  });
  const whoami = await startWhoami({
    host: '127.0.0.1',
    port: 0,
    logoutAction: '/authservice/logout',
    headerNames: { user: 'kubeflow-userid', groups: 'kubeflow-groups', authMethod: 'auth-method' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-demo-'));
  const env = {
    OIDC_PROVIDER: provider.issuer,
    CLIENT_ID: 'oidc-judge-demo',
    CLIENT_SECRET: secret,
    OIDC_SCOPES: 'openid,email,profile,groups',
    SERVER_HOSTNAME: '127.0.0.1',
    SERVER_PORT: '0',
    GRPC_PORT: '0',
    READINESS_PROBE_PORT: '0',
    WEB_SERVER_PORT: '0',
    INGRESS_PORT: String(port),
    INGRESS_UPSTREAM: whoami.url,
    SESSION_STORE_PATH: join(dir, 'sessions.db'),
    KUBERNETES_AUTHN_ENABLED: 'false',
    LOGOUT_AT_PROVIDER: 'true',
    CLIENT_NAME: 'oidc-judge demo',
    DRAIN_TIMEOUT: '1',
  };
  const { config } = loadConfig({ env, configFile: 'demo.yaml', readFile: () => RULES });
  let app: App;
  try {
    app = await startApp(config, { log: opts.log });
  } catch (e) {
    await Promise.all([provider.stop(), whoami.stop()]);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: origin,
    app,
    provider,
    async stop() {
      await app.stop();
      await Promise.all([provider.stop(), whoami.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The demo's front door when `--port` is not given. */
export const DEFAULT_DEMO_PORT = 4180;

/** The banner printed by `oidc-judge demo`: URLs, not bare port numbers. */
export function banner(demo: Demo): string {
  const users = DEMO_USERS.map((u) => `    ${u.email.padEnd(20)} password ${u.password.padEnd(12)} groups: ${u.groups.join(', ')}`).join('\n');
  const p = demo.app.ports;
  return `
  oidc-judge demo is running. Open:

    ${demo.url}            (the "who am I" app, behind the forwarder)
    ${demo.url}/admin      (only for the admins group)

  Demo users:
${users}

  Also running, on 127.0.0.1 only:
    provider      ${demo.provider.issuer}
    judge (HTTP)  http://127.0.0.1:${p.http}      (ext_authz http_service, nginx auth_request, Traefik)
    judge (gRPC)  127.0.0.1:${p.grpc}             (Envoy ext_authz)
    pages         http://127.0.0.1:${p.web}/authservice/
    health        http://127.0.0.1:${p.health}/readyz   metrics: http://127.0.0.1:${p.health}/metrics

  Sessions live in a temporary SQLite file. Each decision is printed below as it happens.
  Ctrl-C stops everything.
`;
}
