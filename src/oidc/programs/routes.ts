/**
 * Where programs log in, on the web server (and the forwarder's pages): `GET <prefix>/api/login`
 * (a browser step: an own route over `JudgeRequest`), and the form endpoints `POST
 * <prefix>/api/token` and `<prefix>/api/revoke` (`node:http` routes: they read a body). Each also
 * without the prefix, as the web server's other routes (deployments that strip it). Not on the
 * judge's check ports: nothing is added to a check's path.
 */
import { underPrefix } from '../../config/schema.js';
import type { OwnRoutes } from '../../judge/decide.js';
import type { HttpRoute } from '../backchannel/http.js';
import type { FlowPaths } from '../routes.js';
import { formRoute, type FormHandler } from './http.js';
import { createProgramLogin, type ProgramLoginDeps } from './login.js';
import { createRevokeEndpoint, createTokenEndpoint } from './token.js';

export interface ProgramRoutes {
  readonly own: OwnRoutes;
  readonly http: HttpRoute;
  /** `<prefix>/api/login` etc., for the README and tests. */
  readonly paths: { readonly login: string; readonly token: string; readonly revoke: string };
}

/** `path` and, when it has the prefix, the same without it. */
function both(path: string, prefix: string): string[] {
  const p = prefix.replace(/\/+$/, '');
  return p !== '' && path.startsWith(p + '/') ? [path, path.slice(p.length)] : [path];
}

export function programRoutes(deps: ProgramLoginDeps, flowPaths: Pick<FlowPaths, 'prefix'>): ProgramRoutes {
  const prefix = flowPaths.prefix;
  const paths = { login: underPrefix(prefix, 'api/login'), token: underPrefix(prefix, 'api/token'), revoke: underPrefix(prefix, 'api/revoke') };
  const login = createProgramLogin(deps);
  const logins = new Set(both(paths.login, prefix));
  const { sessions, clock, log } = deps.flow;
  const handlers = new Map<string, FormHandler>();
  for (const p of both(paths.token, prefix)) handlers.set(p, createTokenEndpoint({ sessions, clock, log }));
  for (const p of both(paths.revoke, prefix)) handlers.set(p, createRevokeEndpoint({ sessions, log }));
  return {
    own: (req, target) => ((req.method === 'GET' || req.method === 'HEAD') && !target.ambiguous && logins.has(target.path) ? login(req) : undefined),
    http: formRoute(handlers),
    paths,
  };
}
