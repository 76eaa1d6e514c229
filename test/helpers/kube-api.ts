/**
 * A Kubernetes API server double for tests: HTTPS on 127.0.0.1 (port 0) with a certificate from
 * `makeTlsFiles`, speaking the real JSON of the endpoints the service calls. No cluster runs here.
 *
 *   const api = await startKubeApi({ clock });
 *   api.url                       https://127.0.0.1:<port>
 *   api.caFile / api.caPem        the CA that signed the server certificate
 *   api.serviceAccountDir         temp dir with `token`, `ca.crt`, `namespace` (in-cluster layout)
 *   api.setToken(t)               rewrites `token` (rotation); the old token stops working unless { keepOld: true }
 *   api.issueToken({...})         a real RS256 service-account JWT signed by the double's key
 *   api.requests                  every request: method, path (with query), headers, parsed body, bearer, who
 *   api.setDocument('discovery'|'jwks', { kind: 'json'|'raw'|'hang'|'default' ... })
 *   api.holdDocuments()           document requests wait until the returned release() is called
 *   api.tokenReview / subjectAccessReview / fallback / upgrade    replaceable hooks (see KubeApiOptions)
 *   await api.close()
 *
 * Endpoints:
 *   POST /apis/authentication.k8s.io/v1/tokenreviews  201 TokenReview (spec echoed, status filled). Built in:
 *        tokens from `issueToken` are verified like kube-apiserver does (signature, issuer, `exp`
 *        → "service account token has expired", audiences vs spec.audiences or the API audiences,
 *        revoked by setToken); anything else → "[invalid bearer token, …]". `tokenReview` overrides.
 *   POST /apis/authorization.k8s.io/v1/subjectaccessreviews  201 SubjectAccessReview, `subjectAccessReview(spec)` decides (default deny).
 *   GET  /.well-known/openid-configuration, /openid/v1/jwks  the issuer's discovery document and JWKS.
 *   anything else → `fallback(req, res, rec)` (default 404 Status); `upgrade` events → `upgrade(req, socket, head, rec)`.
 * Every caller must authenticate (unless `authenticate: false`): the current service-account token
 * (or any accepted with `acceptToken`), a valid token issued by the double for the API audiences, or
 * a client certificate signed by the CA (`makeClientCert`) — else 401 Status JSON. Request bodies
 * are read fully before a hook runs (the hook gets them in `rec.raw`).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { systemClock, type Clock } from '../../src/clock.js';
import { makeTlsFiles, type TlsFiles } from './redis.js';

const run = promisify(execFile);

export interface RecordedRequest {
  readonly method: string;
  /** Raw request target (path and query). */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined. */
  readonly body: unknown;
  readonly raw: Buffer;
  /** The bearer token presented, if any. */
  readonly bearer: string | undefined;
  /** Common name of a verified client certificate. */
  readonly clientCertCN: string | undefined;
  /** Who the double authenticated the caller as (undefined: not authenticated). */
  readonly user: string | undefined;
}

export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}
export interface TokenReviewSpec {
  token?: string;
  audiences?: string[];
}
export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}
export type SubjectAccessReviewSpec = Record<string, unknown>;

export type DocBehaviour =
  | { kind: 'default' }
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; body: string | Buffer; status?: number; contentType?: string }
  | { kind: 'hang' };

export interface IssueTokenOptions {
  namespace?: string;
  name?: string;
  audiences?: string[];
  /** Seconds from the double's clock (default 3600); negative issues an expired token. */
  expiresInSeconds?: number;
  uid?: string;
  podName?: string;
  /** Legacy secret-based token: no `exp`, `iss: kubernetes/serviceaccount`. */
  legacy?: boolean;
}

type Hook<A extends unknown[], R> = ((...a: A) => R) | undefined;

export interface KubeApiOptions {
  /** Service-account issuer (default `https://kubernetes.default.svc.cluster.local`). */
  issuer?: string;
  /** Audiences the API server accepts for itself (default `[issuer]`). */
  apiAudiences?: string[];
  /** Time for `exp` checks and issued tokens (default the system clock). */
  clock?: Clock;
  /** Require callers to authenticate (default true). */
  authenticate?: boolean;
  tokenReview?: (spec: TokenReviewSpec, rec: RecordedRequest) => TokenReviewStatus | undefined;
  subjectAccessReview?: (spec: SubjectAccessReviewSpec, rec: RecordedRequest) => SubjectAccessReviewStatus;
  /** True → 403 Status for this (authenticated) request. */
  forbid?: (rec: RecordedRequest) => boolean;
  fallback?: (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest) => void;
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, rec: RecordedRequest) => void;
}

export interface KubeApi {
  readonly url: string;
  readonly port: number;
  readonly caFile: string;
  readonly caPem: string;
  readonly tls: TlsFiles;
  readonly issuer: string;
  readonly requests: RecordedRequest[];
  readonly serviceAccountDir: string;
  /** The token currently in `serviceAccountDir/token`. */
  readonly token: string;
  setToken(t: string, opts?: { keepOld?: boolean }): void;
  acceptToken(t: string): void;
  issueToken(o?: IssueTokenOptions): Promise<string>;
  setDocument(which: 'discovery' | 'jwks', b: DocBehaviour): void;
  holdDocuments(): () => void;
  /** Resolves once `n` recorded requests match `pred` (default: all). */
  waitForRequests(n: number, pred?: (r: RecordedRequest) => boolean): Promise<void>;
  /** A client certificate (PEM) signed by the CA, with `CN=cn` and `O=` each group. */
  makeClientCert(cn: string, groups?: string[]): Promise<{ cert: string; key: string }>;
  tokenReview: Hook<[TokenReviewSpec, RecordedRequest], TokenReviewStatus | undefined>;
  subjectAccessReview: Hook<[SubjectAccessReviewSpec, RecordedRequest], SubjectAccessReviewStatus>;
  forbid: Hook<[RecordedRequest], boolean>;
  fallback: Hook<[IncomingMessage, ServerResponse, RecordedRequest], void>;
  upgrade: Hook<[IncomingMessage, Duplex, Buffer, RecordedRequest], void>;
  close(): Promise<void>;
}

const SELF = 'system:serviceaccount:oidc-judge:oidc-judge';
const statusJson = (code: number, reason: string, message: string): unknown => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});
const goList = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;

export async function startKubeApi(opts: KubeApiOptions = {}): Promise<KubeApi> {
  const tls = await makeTlsFiles();
  const caPem = readFileSync(tls.ca, 'utf8');
  const clock = opts.clock ?? systemClock;
  const issuer = opts.issuer ?? 'https://kubernetes.default.svc.cluster.local';
  const apiAudiences = opts.apiAudiences ?? [issuer];
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const pub: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const events = new EventEmitter();
  const requests: RecordedRequest[] = [];
  const revoked = new Set<string>();
  const accepted = new Set<string>();
  const docs: Record<'discovery' | 'jwks', DocBehaviour> = { discovery: { kind: 'default' }, jwks: { kind: 'default' } };
  let gate: Promise<void> | undefined;

  const issueToken = async (o: IssueTokenOptions = {}): Promise<string> => {
    const ns = o.namespace ?? 'default';
    const name = o.name ?? 'default';
    const now = Math.floor(clock.now() / 1000);
    const sub = `system:serviceaccount:${ns}:${name}`;
    const uid = o.uid ?? `uid-${ns}-${name}`;
    const claims = o.legacy
      ? {
          'kubernetes.io/serviceaccount/namespace': ns,
          'kubernetes.io/serviceaccount/service-account.name': name,
          'kubernetes.io/serviceaccount/service-account.uid': uid,
        }
      : { 'kubernetes.io': { namespace: ns, pod: { name: o.podName ?? `${name}-pod`, uid: `pod-${uid}` }, serviceaccount: { name, uid } } };
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setSubject(sub);
    if (o.legacy) return jwt.setIssuer('kubernetes/serviceaccount').sign(privateKey);
    return jwt
      .setIssuer(issuer)
      .setAudience(o.audiences ?? apiAudiences)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (o.expiresInSeconds ?? 3600))
      .setJti(randomUUID())
      .sign(privateKey);
  };

  const builtinReview = async (spec: TokenReviewSpec): Promise<TokenReviewStatus> => {
    const bad = (why: string): TokenReviewStatus => ({ user: {}, error: `[invalid bearer token, ${why}]` });
    const token = spec.token ?? '';
    if (token.split('.').length !== 3) return bad('square/go-jose: compact JWS format must have three parts');
    if (revoked.has(token)) return bad('service account token has been invalidated');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, publicKey, { currentDate: new Date(clock.now()), clockTolerance: 0 }));
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_JWT_EXPIRED') return bad('service account token has expired');
      return bad('square/go-jose: error in cryptographic primitive');
    }
    const legacy = payload['iss'] === 'kubernetes/serviceaccount';
    if (!legacy && payload['iss'] !== issuer) return bad('token issuer is not recognized');
    const want = spec.audiences && spec.audiences.length > 0 ? spec.audiences : apiAudiences;
    const tokenAuds = legacy ? apiAudiences : typeof payload['aud'] === 'string' ? [payload['aud']] : ((payload['aud'] as string[] | undefined) ?? []);
    const auds = want.filter((a) => tokenAuds.includes(a));
    if (auds.length === 0) return bad(`token audiences ${goList(tokenAuds)} is invalid for the target audiences ${goList(want)}`);
    const sub = String(payload['sub']);
    const ns = sub.split(':')[2] ?? '';
    const k = payload['kubernetes.io'] as { pod?: { name: string; uid: string }; serviceaccount?: { uid: string } } | undefined;
    const uid = legacy ? String(payload['kubernetes.io/serviceaccount/service-account.uid']) : (k?.serviceaccount?.uid ?? '');
    const extra: Record<string, string[]> = {};
    if (k?.pod) Object.assign(extra, { 'authentication.kubernetes.io/pod-name': [k.pod.name], 'authentication.kubernetes.io/pod-uid': [k.pod.uid] });
    if (typeof payload['jti'] === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload['jti']}`];
    const user = {
      username: sub,
      uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
      ...(Object.keys(extra).length ? { extra } : {}),
    };
    return { authenticated: true, user, audiences: auds };
  };

  const whoIs = async (bearer: string | undefined, cn: string | undefined): Promise<string | undefined> => {
    if (cn !== undefined) return cn;
    if (bearer === undefined) return undefined;
    if (accepted.has(bearer)) return SELF;
    const r = await builtinReview({ token: bearer, audiences: apiAudiences });
    return r.authenticated ? r.user?.username : undefined;
  };

  const saDir = mkdtempSync(join(tmpdir(), 'oidc-judge-kube-sa-'));
  let token = await issueToken({ namespace: 'oidc-judge', name: 'oidc-judge' });
  accepted.add(token);
  writeFileSync(join(saDir, 'token'), token);
  writeFileSync(join(saDir, 'ca.crt'), caPem);
  writeFileSync(join(saDir, 'namespace'), 'oidc-judge');

  const record = async (req: IncomingMessage, raw: Buffer): Promise<RecordedRequest> => {
    const auth = req.headers.authorization;
    const bearer = auth !== undefined && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    const sock = req.socket as TLSSocket;
    const cn = sock.authorized ? (sock.getPeerCertificate().subject?.CN as string | undefined) : undefined;
    let body: unknown;
    try {
      body = raw.length ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined;
    } catch {
      body = undefined;
    }
    const rec = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw, bearer, clientCertCN: cn, user: await whoIs(bearer, cn) };
    requests.push(rec);
    events.emit('request', rec);
    return rec;
  };

  const send = (res: ServerResponse, status: number, value: unknown, type = 'application/json'): void => {
    const body = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    res.writeHead(status, { 'content-type': type, 'content-length': body.length }).end(body);
  };

  const review = async (
    rec: RecordedRequest,
    res: ServerResponse,
    apiVersion: string,
    kind: string,
    decide: (spec: Record<string, unknown>) => Promise<unknown>,
  ): Promise<void> => {
    const b = rec.body as { apiVersion?: unknown; kind?: unknown; spec?: unknown } | undefined;
    if (!b || b.apiVersion !== apiVersion || b.kind !== kind || typeof b.spec !== 'object' || b.spec === null) {
      return send(res, 400, statusJson(400, 'BadRequest', `expected a ${kind} of ${apiVersion}`));
    }
    const spec = b.spec as Record<string, unknown>;
    send(res, 201, { kind, apiVersion, metadata: { creationTimestamp: null }, spec, status: await decide(spec) });
  };

  const serveDoc = async (which: 'discovery' | 'jwks', res: ServerResponse): Promise<void> => {
    if (gate) await gate;
    const b = docs[which];
    if (b.kind === 'hang') return;
    if (b.kind === 'json') return send(res, 200, b.value);
    if (b.kind === 'raw') return send(res, b.status ?? 200, b.body, b.contentType ?? 'application/json');
    if (which === 'jwks') return send(res, 200, { keys: [{ use: 'sig', kty: 'RSA', kid, alg: 'RS256', n: pub.n, e: pub.e }] }, 'application/jwk-set+json');
    send(res, 200, {
      issuer,
      jwks_uri: `${issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  };

  const api: KubeApi = {
    url: '',
    port: 0,
    caFile: tls.ca,
    caPem,
    tls,
    issuer,
    requests,
    serviceAccountDir: saDir,
    get token() {
      return token;
    },
    setToken(t, o = {}) {
      if (!o.keepOld) {
        accepted.delete(token);
        revoked.add(token);
      }
      token = t;
      accepted.add(t);
      writeFileSync(join(saDir, 'token'), t);
    },
    acceptToken: (t) => void accepted.add(t),
    issueToken,
    setDocument: (which, b) => void (docs[which] = b),
    holdDocuments() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
    async waitForRequests(n, pred = () => true) {
      while (requests.filter(pred).length < n) await once(events, 'request');
    },
    async makeClientCert(cn, groups = []) {
      const f = (x: string): string => join(tls.dir, `client-${process.pid}-${requests.length}-${cn.replace(/\W/g, '_')}.${x}`);
      const subj = `/CN=${cn}${groups.map((g) => `/O=${g}`).join('')}`;
      await run('openssl', [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        f('key'),
        '-out',
        f('csr'),
        '-subj',
        subj,
      ]);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        f('csr'),
        '-CA',
        tls.ca,
        '-CAkey',
        join(tls.dir, 'ca.key'),
        '-CAcreateserial',
        '-out',
        f('crt'),
        '-days',
        '2',
      ]);
      return { cert: readFileSync(f('crt'), 'utf8'), key: readFileSync(f('key'), 'utf8') };
    },
    tokenReview: opts.tokenReview,
    subjectAccessReview: opts.subjectAccessReview,
    forbid: opts.forbid,
    fallback: opts.fallback,
    upgrade: opts.upgrade,
    close: async () => undefined,
  };

  const authenticateCallers = opts.authenticate ?? true;
  const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert), ca: caPem, requestCert: true, rejectUnauthorized: false });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const rec = await record(req, Buffer.concat(chunks));
        if (authenticateCallers && rec.user === undefined) return send(res, 401, statusJson(401, 'Unauthorized', 'Unauthorized'));
        if (api.forbid?.(rec)) return send(res, 403, statusJson(403, 'Forbidden', `forbidden: User "${rec.user}" cannot ${rec.method} ${rec.path}`));
        const path = rec.path.split('?')[0];
        if (rec.method === 'POST' && path === '/apis/authentication.k8s.io/v1/tokenreviews') {
          return review(rec, res, 'authentication.k8s.io/v1', 'TokenReview', async (spec) => api.tokenReview?.(spec, rec) ?? (await builtinReview(spec)));
        }
        if (rec.method === 'POST' && path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
          return review(
            rec,
            res,
            'authorization.k8s.io/v1',
            'SubjectAccessReview',
            async (spec) => api.subjectAccessReview?.(spec, rec) ?? { allowed: false, reason: 'no decision function' },
          );
        }
        if (rec.method === 'GET' && path === '/.well-known/openid-configuration') return serveDoc('discovery', res);
        if (rec.method === 'GET' && path === '/openid/v1/jwks') return serveDoc('jwks', res);
        if (api.fallback) return api.fallback(req, res, rec);
        send(res, 404, statusJson(404, 'NotFound', 'the server could not find the requested resource'));
      })().catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, statusJson(500, 'InternalError', String(e)));
      });
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void record(req, Buffer.alloc(0)).then((rec) => {
      if (authenticateCallers && rec.user === undefined) return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      if (api.upgrade) return api.upgrade(req, socket, head, rec);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
  });
  const sockets = new Set<Duplex>();
  server.on('secureConnection', (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  Object.assign(api, {
    url: `https://127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      tls.cleanup();
      rmSync(saDir, { recursive: true, force: true });
    },
  });
  return api;
}
