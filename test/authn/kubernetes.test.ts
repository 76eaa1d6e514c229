import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { KubernetesAuthenticator, type KubernetesAuthnOptions } from '../../src/authn/kubernetes.js';
import type { AuthnOutcome } from '../../src/judge/ports.js';
import { ManualClock } from '../../src/clock.js';
import { KubeClient } from '../../src/kube/client.js';
import { loadKubeCredentials } from '../../src/kube/credentials.js';
import { silentLogger } from '../../src/obs/log.js';
import { capturingLogger, requestWith } from '../helpers/bearer.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { unsignedToken } from '../helpers/app.js';

const AUD = 'istio-ingressgateway.istio-system.svc.cluster.local';
const config = { idTokenHeader: 'Authorization', audiences: [AUD, 'other-aud'] };
const readFile = (p: string): string => readFileSync(p, 'utf8');
const statMtimeMs = (p: string): number | undefined => statSync(p, { throwIfNoEntry: false })?.mtimeMs;
const REVIEWS = (r: { path: string }): boolean => r.path === '/apis/authentication.k8s.io/v1/tokenreviews';
const bearer = (t: string): ReturnType<typeof requestWith> => requestWith({ authorization: `Bearer ${t}` });

function okIdentity(o: AuthnOutcome): Extract<AuthnOutcome, { kind: 'ok' }>['identity'] {
  assert.equal(o.kind, 'ok', JSON.stringify(o));
  return (o as Extract<AuthnOutcome, { kind: 'ok' }>).identity;
}

describe('KubernetesAuthenticator against the Kubernetes API double (TokenReview over HTTPS)', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let api: KubeApi;
  let kube: KubeClient;
  const make = (opts: KubernetesAuthnOptions = {}, log = silentLogger): KubernetesAuthenticator =>
    new KubernetesAuthenticator(config, { clock, log, kube }, opts);
  const reviews = (): number => api.requests.filter(REVIEWS).length;

  before(async () => {
    api = await startKubeApi({ clock });
    const creds = loadKubeCredentials({
      serviceHost: '127.0.0.1',
      servicePort: String(api.port),
      serviceAccountDir: api.serviceAccountDir,
      readFile,
      statMtimeMs,
    });
    assert.equal(creds?.source, 'in-cluster');
    kube = new KubeClient(creds!);
  });
  after(async () => {
    kube.close();
    await api.close();
  });
  beforeEach(() => clock.set(Date.UTC(2026, 0, 1)));

  it('a valid token → the username, UID and groups the review returned; the review carried AUDIENCES and our own token', async () => {
    const token = await api.issueToken({ namespace: 'kubeflow', name: 'pipeline-runner', audiences: [AUD], uid: 'u-123' });
    const id = okIdentity(await make().authenticate(bearer(token)));
    assert.equal(id.user, 'system:serviceaccount:kubeflow:pipeline-runner');
    assert.equal(id.uid, 'u-123');
    assert.deepEqual(id.groups, ['system:serviceaccounts', 'system:serviceaccounts:kubeflow', 'system:authenticated']);
    assert.equal(id.method, 'header');
    assert.equal(id.authenticator, 'kubernetes');
    assert.equal(id.token, token);
    assert.equal((id.claims['kubernetes.io'] as { namespace: string }).namespace, 'kubeflow');
    const seen = api.requests.filter(REVIEWS).at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.bearer, api.token, 'the service presents its own service-account token');
    assert.notEqual(seen.bearer, token);
    assert.deepEqual(seen.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [AUD, 'other-aud'] } });
  });

  it('caches a success: the same token again costs no review', async () => {
    const a = make();
    const token = await api.issueToken({ audiences: ['other-aud'] });
    okIdentity(await a.authenticate(bearer(token)));
    const n = reviews();
    okIdentity(await a.authenticate(bearer(token)));
    assert.equal(reviews(), n);
  });

  it('never uses a cached success past the token’s exp (manual clock)', async () => {
    const a = make({ maxCacheSeconds: 3600 });
    const token = await api.issueToken({ audiences: [AUD], expiresInSeconds: 60 });
    okIdentity(await a.authenticate(bearer(token)));
    clock.advance(59_000);
    okIdentity(await a.authenticate(bearer(token)));
    clock.advance(1_000);
    const n = reviews();
    const late = await a.authenticate(bearer(token));
    assert.equal(late.kind, 'invalid');
    assert.equal(reviews(), n, 'an expired exp is refused locally');
  });

  it('reviews again once the positive cache bound (maxCacheSeconds) has passed', async () => {
    const a = make({ maxCacheSeconds: 120 });
    const token = await api.issueToken({ audiences: [AUD] });
    okIdentity(await a.authenticate(bearer(token)));
    clock.advance(119_000);
    const n = reviews();
    okIdentity(await a.authenticate(bearer(token)));
    assert.equal(reviews(), n);
    clock.advance(1_000);
    okIdentity(await a.authenticate(bearer(token)));
    assert.equal(reviews(), n + 1);
  });

  it('an expired token → 401 (invalid) without a review', async () => {
    const token = await api.issueToken({ audiences: [AUD], expiresInSeconds: -1 });
    const n = reviews();
    const o = await make().authenticate(bearer(token));
    assert.equal(o.kind, 'invalid');
    assert.equal(reviews(), n);
  });

  it('a review answering "token has expired" (API server clock ahead) → 401 (invalid)', async () => {
    const token = await api.issueToken({ audiences: [AUD], expiresInSeconds: 30 });
    const fresh = make();
    api.tokenReview = () => ({ user: {}, error: '[invalid bearer token, service account token has expired]' });
    try {
      const o = await fresh.authenticate(bearer(token));
      assert.equal(o.kind, 'invalid');
      // Legacy wording (oidc-authservice matched it) too.
      api.tokenReview = () => ({ user: {}, error: 'Token has expired.' });
      const other = await api.issueToken({ audiences: [AUD], name: 'legacy-wording' });
      assert.equal((await make().authenticate(bearer(other))).kind, 'invalid');
    } finally {
      api.tokenReview = undefined;
    }
  });

  it('a token for another audience → not mine (the review says so); cached briefly, then reviewed again', async () => {
    const a = make({ negativeCacheSeconds: 10 });
    const token = await api.issueToken({ audiences: ['vault'] });
    const n = reviews();
    assert.equal((await a.authenticate(bearer(token))).kind, 'none');
    assert.equal(reviews(), n + 1);
    const error = (api.requests.filter(REVIEWS).at(-1)!.body as { spec: { audiences: string[] } }).spec.audiences;
    assert.deepEqual(error, [AUD, 'other-aud']);
    assert.equal((await a.authenticate(bearer(token))).kind, 'none');
    assert.equal(reviews(), n + 1, 'negative result cached');
    clock.advance(10_000);
    assert.equal((await a.authenticate(bearer(token))).kind, 'none');
    assert.equal(reviews(), n + 2);
  });

  it('authenticated but status.audiences not intersecting AUDIENCES → not mine', async () => {
    const token = await api.issueToken({ audiences: [AUD] });
    api.tokenReview = () => ({
      authenticated: true,
      user: { username: 'system:serviceaccount:x:y', groups: [] },
      audiences: ['https://kubernetes.default.svc'],
    });
    try {
      assert.equal((await make().authenticate(bearer(token))).kind, 'none');
    } finally {
      api.tokenReview = undefined;
    }
  });

  it('tokens that are not service-account JWTs cost no review and are not mine (opaque, OIDC JWT, session id, none)', async () => {
    const a = make();
    const n = api.requests.length;
    for (const t of [
      'opaque-access-token-0123456789',
      unsignedToken({ sub: 'alice@example.com', aud: AUD }),
      'a.b.c',
      unsignedToken({ sub: 'system:serviceaccount:' }),
    ]) {
      assert.equal((await a.authenticate(bearer(t))).kind, 'none', t);
    }
    assert.equal((await a.authenticate(requestWith({}))).kind, 'none');
    assert.equal(api.requests.length, n);
  });

  it('another cluster’s service-account token (its issuer in jwtIssuers) is left to the JWT authenticator without a review', async () => {
    const other = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
    const token = unsignedToken({ iss: other, sub: 'system:serviceaccount:ml:trainer', aud: AUD, exp: Math.floor(clock.now() / 1000) + 60 });
    const n = reviews();
    assert.equal((await make({ foreignIssuers: [other] }).authenticate(bearer(token))).kind, 'none');
    assert.equal(reviews(), n);
  });

  it('a forged service-account-looking token → not mine (the API server refuses it)', async () => {
    const forged = unsignedToken({ sub: 'system:serviceaccount:kube-system:admin', aud: [AUD], exp: Math.floor(clock.now() / 1000) + 60 });
    const n = reviews();
    assert.equal((await make().authenticate(bearer(forged))).kind, 'none');
    assert.equal(reviews(), n + 1);
  });

  it('a legacy secret-based token (no exp) is accepted and cached only up to the bound', async () => {
    api.tokenReview = (spec) => ({
      authenticated: true,
      user: { username: 'system:serviceaccount:old:bot', uid: 'u-old', groups: ['system:serviceaccounts'] },
      audiences: spec.audiences ?? [],
    });
    try {
      const a = make({ maxCacheSeconds: 120 });
      const token = await api.issueToken({ legacy: true, namespace: 'old', name: 'bot' });
      assert.equal(okIdentity(await a.authenticate(bearer(token))).user, 'system:serviceaccount:old:bot');
      const n = reviews();
      clock.advance(120_000);
      okIdentity(await a.authenticate(bearer(token)));
      assert.equal(reviews(), n + 1);
    } finally {
      api.tokenReview = undefined;
    }
  });

  it('concurrent checks of one new token share one review', async () => {
    const a = make();
    const token = await api.issueToken({ audiences: [AUD] });
    const n = reviews();
    const out = await Promise.all(Array.from({ length: 5 }, () => a.authenticate(bearer(token))));
    for (const o of out) okIdentity(o);
    assert.equal(reviews(), n + 1);
  });

  it('uses the rotated service-account token for the next review', async () => {
    const old = api.token;
    api.setToken(await api.issueToken({ namespace: 'oidc-judge', name: 'oidc-judge', expiresInSeconds: 7200 }));
    const token = await api.issueToken({ audiences: [AUD], name: 'after-rotation' });
    okIdentity(await make().authenticate(bearer(token)));
    const seen = api.requests.filter(REVIEWS).at(-1)!;
    assert.equal(seen.bearer, api.token);
    assert.notEqual(seen.bearer, old);
  });

  it('API server answering an error (403: RBAC missing, 500) → unavailable, logged without the token', async () => {
    const { log, lines } = capturingLogger();
    const token = await api.issueToken({ audiences: [AUD], name: 'rbac' });
    api.forbid = (rec) => REVIEWS(rec);
    try {
      const o = await make({}, log).authenticate(bearer(token));
      assert.equal(o.kind, 'unavailable');
    } finally {
      api.forbid = undefined;
    }
    api.tokenReview = () => {
      throw new Error('etcd is down');
    };
    try {
      assert.equal((await make({}, log).authenticate(bearer(token))).kind, 'unavailable');
    } finally {
      api.tokenReview = undefined;
    }
    assert.ok(
      lines.some((l) => l.includes('tokenreviews.authentication.k8s.io')),
      'the 403 names the RBAC it needs',
    );
    assert.ok(!lines.join('\n').includes(token));
    assert.ok(!lines.join('\n').includes(api.token));
    // Not cached: the API server answering again authenticates.
    okIdentity(await make().authenticate(bearer(token)));
  });
});

describe('KubernetesAuthenticator with the API server down', () => {
  it('a service-account token → unavailable (the check answers 503); other tokens stay not mine', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const api = await startKubeApi({ clock });
    const creds = loadKubeCredentials({ serviceHost: '127.0.0.1', servicePort: String(api.port), serviceAccountDir: api.serviceAccountDir, readFile })!;
    const token = await api.issueToken({ audiences: [AUD] });
    await api.close();
    const kube = new KubeClient(creds);
    const a = new KubernetesAuthenticator(config, { clock, log: silentLogger, kube });
    const o = await a.authenticate(bearer(token));
    assert.equal(o.kind, 'unavailable');
    assert.equal((await a.authenticate(bearer('opaque-token'))).kind, 'none');
    kube.close();
  });
});
