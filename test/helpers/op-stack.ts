/**
 * The assembled service (built-in ingress forwarder) in front of an echo upstream, signing in at
 * the test provider (op.ts) through op-login.ts: for login tests that shape the provider (step-up,
 * Auth0) and drive it with plain HTTP browsers. Browsers use `http://localhost:<port>`.
 */
import { startApp, type App } from '../../src/app/start.js';
import type { Clock } from '../../src/clock.js';
import { silentLogger, type Logger } from '../../src/obs/log.js';
import { testConfig, untilReady } from './app.js';
import { freePort } from './net.js';
import { startOp, type TestOp } from './op.js';
import { opLogin, type OpLogin, type OpLoginOptions } from './op-login.js';
import { startUpstream, type Upstream } from './upstream.js';

export const CALLBACK_PATH = '/authservice/oidc/callback';

export interface OpStack {
  readonly origin: string;
  readonly op: TestOp;
  readonly login: OpLogin;
  readonly app: App;
  readonly upstream: Upstream;
  url(path: string): string;
  stop(): Promise<void>;
}

export interface OpStackOptions {
  /** Settings on top (env-style names); a function gets the provider's issuer. */
  readonly env?: Readonly<Record<string, string>> | ((issuer: string) => Readonly<Record<string, string>>);
  readonly yaml?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly login?: Omit<OpLoginOptions, 'redirectUris' | 'clock'>;
  /** The provider's issuer path after its origin (Dex: `/dex`). */
  readonly issuerPath?: string;
}

export async function startOpStack(o: OpStackOptions = {}): Promise<OpStack> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const login = opLogin({ ...o.login, redirectUris: [origin + CALLBACK_PATH], ...(o.clock ? { clock: o.clock } : {}) });
  const op = await startOp({ ...login.options, ...(o.issuerPath !== undefined ? { issuerPath: o.issuerPath } : {}) });
  const upstream = await startUpstream();
  const stops: (() => Promise<void>)[] = [() => op.stop(), () => upstream.close()];
  try {
    const config = testConfig(op.issuer, {
      env: {
        INGRESS_PORT: String(port),
        INGRESS_UPSTREAM: `http://127.0.0.1:${upstream.port}`,
        OIDC_SCOPES: 'openid,email,profile',
        ...(typeof o.env === 'function' ? o.env(op.issuer) : o.env),
      },
      ...(o.yaml !== undefined ? { yaml: o.yaml } : {}),
    });
    const app = await startApp(config, { log: o.log ?? silentLogger, ...(o.clock ? { clock: o.clock } : {}) });
    stops.push(() => app.stop());
    await untilReady(app.readiness);
    return {
      origin,
      op,
      login,
      app,
      upstream,
      url: (path) => origin + path,
      stop: async () => {
        for (const s of stops.reverse()) await s().catch(() => undefined);
      },
    };
  } catch (e) {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    throw e;
  }
}
