/**
 * Token passthrough (kube-oidc-proxy's `--token-passthrough`): a bearer token that failed OIDC is
 * checked with an `authentication.k8s.io/v1` TokenReview (optional audiences, 10 s deadline); an
 * authenticated token is then forwarded as the client sent it, with no service credentials.
 * Anything else (an API error, `status.error`, not authenticated, no shared audience) is a
 * refusal. Authenticated answers are cached by token hash for a short while.
 */
import type { KubeClient } from '../../kube/client.js';
import type { Logger } from '../../obs/log.js';
import type { KubeUser } from './impersonate.js';
import { ReviewCache, type RateLimiter } from '../../kube/review-cache.js';

export const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';
export const TOKEN_REVIEW_TIMEOUT_MS = 10_000;

export type ReviewOutcome = { readonly kind: 'ok'; readonly user: KubeUser } | { readonly kind: 'refused'; readonly reason: string };

export interface TokenReviewerDeps {
  readonly client: Pick<KubeClient, 'post'>;
  readonly limiter: RateLimiter;
  readonly cache: ReviewCache<KubeUser>;
  readonly log: Logger;
}

interface ReviewStatus {
  authenticated?: unknown;
  error?: unknown;
  audiences?: unknown;
  user?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The user of a TokenReview status, when it says authenticated without error (and, with audiences asked, shares one). */
export function reviewedUser(status: ReviewStatus | undefined, audiences: readonly string[]): KubeUser | string {
  if (status === undefined || typeof status !== 'object') return 'no status in the TokenReview';
  if (typeof status.error === 'string' && status.error !== '') return 'the TokenReview reports an error';
  if (status.authenticated !== true) return 'not authenticated';
  if (audiences.length > 0 && status.audiences !== undefined && !strings(status.audiences).some((a) => audiences.includes(a))) return 'no requested audience';
  const u = status.user ?? {};
  if (typeof u.username !== 'string' || u.username === '') return 'no username';
  const extra: Record<string, string[]> = {};
  if (typeof u.extra === 'object' && u.extra !== null) for (const [k, v] of Object.entries(u.extra)) extra[k.toLowerCase()] = strings(v);
  return { username: u.username, ...(typeof u.uid === 'string' && u.uid !== '' ? { uid: u.uid } : {}), groups: strings(u.groups), extra };
}

export class TokenReviewer {
  constructor(
    private readonly audiences: readonly string[],
    private readonly d: TokenReviewerDeps,
  ) {}

  async review(token: string, requestId: string): Promise<ReviewOutcome> {
    const key = ReviewCache.keyOf(token);
    const hit = this.d.cache.get(key);
    if (hit !== undefined) return { kind: 'ok', user: hit };
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(this.audiences.length > 0 ? { audiences: [...this.audiences] } : {}) } };
    let res;
    try {
      await this.d.limiter.acquire();
      res = await this.d.client.post(TOKEN_REVIEWS, body, { timeoutMs: TOKEN_REVIEW_TIMEOUT_MS });
    } catch (e) {
      this.d.log.warn({ requestId, err: (e as Error).message }, 'TokenReview failed');
      return { kind: 'refused', reason: 'TokenReview failed' };
    }
    if (res.status < 200 || res.status > 299) {
      this.d.log.warn({ requestId, status: res.status }, 'TokenReview answered an error');
      return { kind: 'refused', reason: `TokenReview answered ${res.status}` };
    }
    const user = reviewedUser((res.json as { status?: ReviewStatus } | undefined)?.status, this.audiences);
    if (typeof user === 'string') return { kind: 'refused', reason: user };
    this.d.cache.set(key, user);
    return { kind: 'ok', user };
  }
}
