import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { ManualClock } from '../../src/clock.js';
import { KubeClient } from '../../src/kube/client.js';
import { loadKubeCredentials } from '../../src/kube/credentials.js';
import { ReviewCache } from '../../src/kube/review-cache.js';
import { TOKEN_REVIEW_PATH, TokenReviewClient, type ReviewedUser } from '../../src/kube/token-review.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';

const readFile = (p: string): string => readFileSync(p, 'utf8');
const statMtimeMs = (p: string): number | undefined => statSync(p, { throwIfNoEntry: false })?.mtimeMs;

describe('TokenReviewClient (the judge and the kube mode) against the Kubernetes API double', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let api: KubeApi;
  let kube: KubeClient;
  const reviews = (): number => api.requests.filter((r) => r.path === TOKEN_REVIEW_PATH).length;

  before(async () => {
    api = await startKubeApi({ clock, apiAudiences: ['https://kubernetes.default.svc.cluster.local', 'vault'] });
    const creds = loadKubeCredentials({
      serviceHost: '127.0.0.1',
      servicePort: String(api.port),
      serviceAccountDir: api.serviceAccountDir,
      readFile,
      statMtimeMs,
    });
    kube = new KubeClient(creds!);
  });
  after(async () => {
    kube.close();
    await api.close();
  });

  it('sends the TokenReview with the audiences asked; an authenticated answer gives the user (extra keys lower-cased)', async () => {
    const token = await api.issueToken({ namespace: 'ci', name: 'a', audiences: ['vault'], uid: 'u-1' });
    const answer = await new TokenReviewClient(kube, { audiences: ['vault', 'other'], timeoutMs: 5000 }).review(token);
    assert.equal(answer.kind, 'authenticated');
    const { user } = answer as { user: ReviewedUser };
    assert.equal(user.username, 'system:serviceaccount:ci:a');
    assert.equal(user.uid, 'u-1');
    const seen = api.requests.filter((r) => r.path === TOKEN_REVIEW_PATH).at(-1)!;
    assert.deepEqual(seen.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['vault', 'other'] } });
  });

  it('one rule for both callers: status.error, no username, or no echoed audience when audiences were asked → unauthenticated', async () => {
    const client = new TokenReviewClient(kube, { audiences: ['vault'], timeoutMs: 5000 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ authenticated: true, error: 'webhook exploded', user: { username: 'x' }, audiences: ['vault'] }, /error/],
      [{ authenticated: true, user: { username: '' }, audiences: ['vault'] }, /username/],
      [{ authenticated: true, user: { username: 'x' } }, /audience/],
      [{ authenticated: true, user: { username: 'x' }, audiences: ['elsewhere'] }, /audience/],
      [{ authenticated: false, error: 'service account token has expired' }, /error/],
    ];
    try {
      for (const [status, reason] of cases) {
        api.tokenReview = () => status;
        const answer = await client.review('t');
        assert.equal(answer.kind, 'unauthenticated', JSON.stringify(status));
        assert.match((answer as { reason: string }).reason, reason);
      }
      api.tokenReview = () => ({ authenticated: true, user: { username: 'x', extra: { 'Scopes.Example': ['a'] } }, audiences: ['vault'] });
      assert.deepEqual(await client.review('t'), { kind: 'authenticated', user: { username: 'x', groups: [], extra: { 'scopes.example': ['a'] } } });
    } finally {
      api.tokenReview = undefined;
    }
  });

  it('caches authenticated answers when given a cache, waits for the limiter, and reports an unreachable server as failed', async () => {
    const token = await api.issueToken({ namespace: 'ci', name: 'b' });
    let acquired = 0;
    const client = new TokenReviewClient(kube, {
      audiences: [],
      timeoutMs: 5000,
      cache: new ReviewCache<ReviewedUser>(clock, 10_000),
      limiter: { acquire: () => Promise.resolve(void acquired++) },
    });
    const before = reviews();
    assert.equal((await client.review(token)).kind, 'authenticated');
    assert.equal((await client.review(token)).kind, 'authenticated');
    assert.equal(reviews() - before, 1, 'the second answer came from the cache');
    assert.equal(acquired, 1);
    clock.advance(10_000);
    assert.equal((await client.review(token)).kind, 'authenticated');
    assert.equal(reviews() - before, 2);
    const down = new TokenReviewClient({ post: () => Promise.reject(new Error('connect ECONNREFUSED')) }, { audiences: [], timeoutMs: 5000 });
    assert.deepEqual(await down.review(token), { kind: 'failed', reason: 'connect ECONNREFUSED' });
  });
});
