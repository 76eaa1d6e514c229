/**
 * Where programs log in, on the web server (and the forwarder's pages): the browser steps `GET
 * <prefix>/api/login` and `GET <prefix>/api/device/verify` (own routes over `JudgeRequest`), and
 * the form endpoints `POST <prefix>/api/login` and `/api/device/verify` (the user's answers),
 * `/api/token`, `/api/revoke` and `/api/device` (`node:http` routes: they read a body). Each also without the prefix, as
 * the web server's other routes (deployments that strip it). Not on the judge's check ports:
 * nothing is added to a check's path.
 */
import type { IncomingMessage } from 'node:http';
import { underPrefix } from '../../config/schema.js';
import type { OwnRoutes } from '../../judge/decide.js';
import type { HttpRoute } from '../backchannel/http.js';
import type { FlowPaths } from '../routes.js';
import { DeviceGrants } from './device.js';
import { createDevicePage, type DevicePages } from './device-page.js';
import { formRoute, type FormHandler } from './http.js';
import { createProgramLogin, type ProgramLoginDeps } from './login.js';
import { createRevokeEndpoint, createTokenEndpoint, issueCredential } from './token.js';

export interface ProgramRoutes {
  readonly own: OwnRoutes;
  readonly http: HttpRoute;
  /** `<prefix>/api/login` etc., for the README and tests. */
  readonly paths: { readonly login: string; readonly token: string; readonly revoke: string; readonly device: string; readonly verify: string };
}

/** `path` and, when it has the prefix, the same without it. */
function both(path: string, prefix: string): string[] {
  const p = prefix.replace(/\/+$/, '');
  return p !== '' && path.startsWith(p + '/') ? [path, path.slice(p.length)] : [path];
}

/** The origin a program's request reached us at (shown back to it as where to approve). */
function originOf(req: IncomingMessage): string {
  const proto = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]!
    .trim()
    .toLowerCase();
  const scheme = proto === 'https' || proto === 'http' ? proto : 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http';
  return `${scheme}://${req.headers.host ?? 'localhost'}`;
}

export function programRoutes(
  deps: ProgramLoginDeps & { readonly pages: DevicePages & ProgramLoginDeps['pages'] },
  flowPaths: Pick<FlowPaths, 'prefix'>,
): ProgramRoutes {
  const prefix = flowPaths.prefix;
  const at = (rel: string): string => underPrefix(prefix, rel);
  const paths = { login: at('api/login'), token: at('api/token'), revoke: at('api/revoke'), device: at('api/device'), verify: at('api/device/verify') };
  const { sessions, clock, log } = deps.flow;
  const handlers = new Map<string, FormHandler>();
  const add = (path: string, h: FormHandler): void => {
    for (const p of both(path, prefix)) handlers.set(p, h);
  };
  const login = createProgramLogin({ ...deps, path: paths.login });
  add(paths.login, login.answer);
  const logins = new Set(both(paths.login, prefix));

  add(paths.revoke, createRevokeEndpoint({ sessions, log }));
  let verifies = new Set<string>();
  let page: ((req: Parameters<OwnRoutes>[0]) => ReturnType<ReturnType<typeof createDevicePage>['page']>) | undefined;
  let deviceGrant: FormHandler | undefined;
  if (deps.maxAgeSeconds > 0) {
    const grants = new DeviceGrants({
      store: sessions.store,
      clock,
      log,
      verificationUri: (req) => originOf(req) + paths.verify,
      issue: (waiting) => issueCredential({ sessions, clock, log }, waiting),
    });
    const device = createDevicePage({ ...deps, grants, path: paths.verify });
    add(paths.device, grants.authorize);
    add(paths.verify, device.answer);
    verifies = new Set(both(paths.verify, prefix));
    page = device.page;
    deviceGrant = grants.grant;
  }
  add(paths.token, createTokenEndpoint({ sessions, clock, log, ...(deviceGrant !== undefined ? { deviceGrant } : {}) }));
  return {
    own: (req, target) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || target.ambiguous) return undefined;
      if (logins.has(target.path)) return login.start(req);
      if (page !== undefined && verifies.has(target.path)) return page(req);
      return undefined;
    },
    http: formRoute(handlers),
    paths,
  };
}
