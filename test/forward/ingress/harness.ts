/**
 * Forwarder test harness: the real judge (`createJudge`) with a tiny test authenticator, an
 * ingress started on port 0 in front of a real upstream, and raw-socket helpers for what an HTTP
 * client library will not send (both framings, absolute-form targets, upgrades).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after } from 'node:test';
import type { Authenticator } from '../../../src/judge/ports.js';
import { NOT_MINE } from '../../../src/judge/ports.js';
import type { Authorizer } from '../../../src/judge/ports.js';
import { createIngress, type Ingress, type IngressDeps } from '../../../src/forward/ingress/server.js';
import { createJudge, type Judge } from '../../../src/judge/decide.js';
import { deny, type Decision } from '../../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../../src/judge/upstream/identity-headers.js';
import { targetOf } from '../../../src/judge/target.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createResponses } from '../../../src/judge/responses.js';
import { compileSkipRules } from '../../../src/judge/skip.js';
import { createLogger } from '../../../src/obs/log.js';
import { startUpstream, type Upstream } from '../../helpers/upstream.js';

export const SESSION_COOKIE = 'authservice_session';
export const STATE_COOKIE = 'oidc_state_csrf';
export const LOGIN_URL = 'https://idp.example/auth?client_id=c&state=s';

/** `x-test-user: <name>` (UTF-8) authenticates; `bad` is an invalid credential; `x-test-groups` lists groups. */
const testAuthenticator: Authenticator = {
  name: 'test',
  authenticate(req) {
    const raw = req.headers['x-test-user'];
    if (raw === undefined) return NOT_MINE;
    const user = Buffer.from(raw, 'latin1').toString('utf8');
    if (user === 'bad') return { kind: 'invalid', reason: 'bad test credential' };
    const groups = Buffer.from(req.headers['x-test-groups'] ?? '', 'latin1')
      .toString('utf8')
      .split(',')
      .filter(Boolean);
    return { kind: 'ok', identity: { user, groups, claims: {}, method: 'header', authenticator: 'test' } };
  },
};

const noMallory: Authorizer = {
  name: 'test-groups',
  authorize: (identity) => (identity.user === 'mallory' ? { kind: 'deny', reason: 'not on the list' } : { kind: 'allow' }),
};

/** The real decision core with the test authenticator, a login redirect, and callback/logout answered by the judge (plus `authorizers`). */
export function testJudge(authorizers: readonly Authorizer[] = []): Judge {
  return createJudge({
    targetOf,
    skip: compileSkipRules({ authserviceUrlPrefix: '/authservice/', skipAuthUrls: ['/public'], skipRules: [] }),
    authenticators: [testAuthenticator],
    authorizers: [noMallory, ...authorizers],
    identityHeaders: compileIdentityHeaders({
      useridHeader: 'kubeflow-userid',
      useridPrefix: '',
      useridTransformers: [],
      groupsHeader: 'kubeflow-groups',
      authMethodHeader: 'auth-method',
      claimHeaders: {},
      useridTokenHeader: '',
    }),
    responses: createResponses(),
    login: {
      start: async () =>
        deny(302, 'login', '', [
          ['location', LOGIN_URL],
          ['set-cookie', `${STATE_COOKIE}=abc; Path=/; HttpOnly; Secure`],
        ]),
    },
    ownRoutes: (req, target) => {
      if (target.path === '/authservice/oidc/callback') {
        return Promise.resolve(
          deny(302, 'login-complete', '', [
            ['location', '/app'],
            ['set-cookie', `${SESSION_COOKIE}=new; Path=/; HttpOnly`],
          ]),
        );
      }
      if (target.path === '/authservice/logout' && req.method === 'POST') {
        return Promise.resolve(deny(201, 'logout', '{"afterLogoutURL":"/bye"}', [['content-type', 'application/json']]));
      }
      return undefined;
    },
  });
}

export const OWN_PATHS = (p: string): boolean => p === '/authservice/oidc/callback' || p === '/authservice/logout';

export interface Started {
  readonly port: number;
  readonly ingress: Ingress;
  readonly upstream: Upstream;
  /** Every request the judge was asked about. */
  readonly seen: JudgeRequest[];
  readonly logs: string[];
}

const open: { ingress: Ingress; upstream: Upstream }[] = [];
after(async () => {
  await Promise.all(open.map(({ ingress, upstream }) => Promise.all([ingress.close(50), upstream.close()])));
});

/** An ingress in front of a fresh upstream (plus `upstreamSuffix`: base path, query), judged by `judge` (default: the real test judge). */
export async function startIngress(
  over: Partial<IngressDeps> & { judge?: (req: JudgeRequest) => Promise<Decision>; upstreamSuffix?: string } = {},
): Promise<Started> {
  const upstream = await startUpstream();
  const seen: JudgeRequest[] = [];
  const logs: string[] = [];
  const { upstreamSuffix, judge, ...rest } = over;
  const inner = judge ?? testJudge();
  const ingress = createIngress({
    upstream: upstream.url + (upstreamSuffix ?? ''),
    prefixPath: '/authservice/',
    ownPaths: OWN_PATHS,
    stripCookies: [SESSION_COOKIE, STATE_COOKIE],
    trustedProxies: [],
    log: createLogger('debug', { write: (s: string) => void logs.push(s) }),
    ...rest,
    judge: (req) => {
      seen.push(req);
      return inner(req);
    },
  });
  open.push({ ingress, upstream });
  const port = await ingress.listen('127.0.0.1', 0);
  return { port, ingress, upstream, seen, logs };
}

/** Writes `text` on a new connection and resolves with everything read until the server closes it. */
export async function rawExchange(port: number, text: string | Buffer): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(text);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** Reads from `socket` until `predicate` holds for everything read so far; resolves with it. */
export function readUntil(socket: Socket, predicate: (sofar: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let sofar = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      sofar = Buffer.concat([sofar, c]);
      if (predicate(sofar)) {
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        resolve(sofar);
      }
    };
    const onClose = (): void => reject(new Error(`closed after ${JSON.stringify(sofar.toString('latin1'))}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

export const headEnded = (b: Buffer): boolean => b.includes('\r\n\r\n');
