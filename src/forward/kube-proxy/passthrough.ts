/**
 * Token passthrough (kube-oidc-proxy's `--token-passthrough`): a bearer token that failed OIDC is
 * checked with a TokenReview — the core's client (`kube/token-review.ts`, the judge's too), here
 * with the configured audiences, a 10 s deadline, the mode's rate limiter and a short cache of
 * authenticated answers; an authenticated token is then forwarded as the client sent it, with no
 * service credentials. Anything else (an API error, `status.error`, not authenticated, no shared
 * audience) is a refusal.
 */
import type { KubeClient } from '../../kube/client.js';
import type { RateLimiter, ReviewCache } from '../../kube/review-cache.js';
import { TokenReviewClient, type ReviewedUser } from '../../kube/token-review.js';
import type { Logger } from '../../obs/log.js';
import type { KubeUser } from './impersonate.js';

export const TOKEN_REVIEW_TIMEOUT_MS = 10_000;

export type ReviewOutcome = { readonly kind: 'ok'; readonly user: KubeUser } | { readonly kind: 'refused'; readonly reason: string };

export interface TokenPassthroughDeps {
  readonly client: Pick<KubeClient, 'post'>;
  readonly limiter: RateLimiter;
  readonly cache: ReviewCache<ReviewedUser>;
  readonly log: Logger;
}

export class TokenPassthrough {
  readonly #reviews: TokenReviewClient;
  readonly #log: Logger;

  constructor(audiences: readonly string[], d: TokenPassthroughDeps) {
    this.#reviews = new TokenReviewClient(d.client, { audiences, timeoutMs: TOKEN_REVIEW_TIMEOUT_MS, limiter: d.limiter, cache: d.cache });
    this.#log = d.log;
  }

  async review(token: string, requestId: string): Promise<ReviewOutcome> {
    const answer = await this.#reviews.review(token);
    if (answer.kind === 'authenticated') return { kind: 'ok', user: answer.user };
    if (answer.kind === 'failed' && answer.status === undefined) {
      this.#log.warn({ requestId, err: answer.reason }, 'TokenReview failed');
      return { kind: 'refused', reason: 'TokenReview failed' };
    }
    if (answer.kind === 'failed') this.#log.warn({ requestId, status: answer.status }, 'TokenReview answered an error');
    return { kind: 'refused', reason: answer.reason };
  }
}
