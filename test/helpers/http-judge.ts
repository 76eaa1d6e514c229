/** A running HTTP judge with a scriptable fake judge function, and canned decisions, for the front-door tests. */
import { after } from 'node:test';
import { deny, type Decision } from '../../src/judge/decision.js';
import { createHttpJudge, type HttpJudge, type HttpJudgeDeps, type HttpJudgeOptions } from '../../src/judge/http/server.js';
import type { JudgeRequest } from '../../src/judge/request.js';
import { createLogger } from '../../src/obs/log.js';

export interface Harness {
  readonly port: number;
  readonly judge: HttpJudge;
  /** Every request the judge was asked about, in order. */
  readonly seen: JudgeRequest[];
  readonly logs: string[];
  /** What the fake judge answers next. */
  decide: (req: JudgeRequest) => Decision | Promise<Decision>;
}

export const DEFAULTS: HttpJudgeOptions = {
  verifyPath: '/authservice/verify',
  forwardAuthPath: '/authservice/forward-auth',
  checkPathPrefix: '',
  trustedProxies: ['127.0.0.1/8', '::1/128'],
};

/** Every judge started by this test file; closed when the file's tests are done. */
const open: HttpJudge[] = [];
after(() => Promise.all(open.map((j) => j.close(100))));

export async function start(options: Partial<HttpJudgeOptions> = {}, routes?: HttpJudgeDeps['routes']): Promise<Harness> {
  const logs: string[] = [];
  const seen: JudgeRequest[] = [];
  const h: Harness = {
    port: 0,
    judge: undefined as unknown as HttpJudge,
    seen,
    logs,
    decide: () => allowAlice,
  };
  const judge = createHttpJudge({
    judge: async (req) => {
      seen.push(req);
      return h.decide(req);
    },
    options: { ...DEFAULTS, ...options },
    log: createLogger('debug', { write: (s: string) => void logs.push(s) }),
    ...(routes ? { routes } : {}),
  });
  open.push(judge);
  const port = await judge.listen('127.0.0.1', 0);
  return Object.assign(h, { port, judge });
}

export const allowAlice: Decision = {
  kind: 'allow',
  upstreamHeaders: [
    ['kubeflow-userid', 'alice@example.com'],
    ['kubeflow-groups', 'admins,users'],
    ['auth-method', 'header'],
  ],
  removeHeaders: ['authorization', 'x-auth-token'],
  responseHeaders: [],
  reason: 'authenticated',
};
export const allowSkip: Decision = { kind: 'allow', upstreamHeaders: [], removeHeaders: [], responseHeaders: [], reason: 'skip' };
export const login302 = deny(302, 'login', '', [
  ['location', 'https://idp.example/auth?client_id=c&state=s'],
  ['set-cookie', 'oidc_state_s=1; Path=/authservice; HttpOnly; Secure'],
  ['set-cookie', 'other=2; Path=/'],
]);
export const unauthorized = deny(401, 'invalid-token', 'Unauthorized', [['www-authenticate', 'Bearer realm="oidc-judge", error="invalid_token"']]);
export const forbiddenHtml = deny(403, 'forbidden', '<p>Forbidden</p>', [['content-type', 'text/html; charset=utf-8']]);
