/**
 * The one TokenReview (`authentication.k8s.io/v1`) client, used by the judge's service-account
 * authenticator and by the kube mode's token passthrough: the request body, the deadline, the
 * optional audiences, rate limit and positive cache, and the reading of the answer — one rule for
 * both callers. An answer counts as authenticated only when `status.authenticated` is true, there
 * is no `status.error`, the user has a name, and (when audiences were asked) `status.audiences`
 * shares one of them. Never throws; the callers map the three outcomes to their own answers.
 */
import type { KubeClient } from './client.js';
import { ReviewCache, type RateLimiter } from './review-cache.js';
import { traced } from '../obs/trace/port.js';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const SPAN = { 'url.path': TOKEN_REVIEW_PATH };

/** The user an API server vouches for (`extra` keys lower-cased). */
export interface ReviewedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

export type TokenReviewAnswer =
  | { readonly kind: 'authenticated'; readonly user: ReviewedUser }
  /** The API server answered, and not "yes": `error` is `status.error` (may be empty). */
  | { readonly kind: 'unauthenticated'; readonly reason: string; readonly error: string }
  /** No answer: unreachable, timed out, or an error status (`status` then set). */
  | { readonly kind: 'failed'; readonly reason: string; readonly status?: number };

export interface TokenReviewOptions {
  /** `spec.audiences`; empty: the API server's own. */
  readonly audiences: readonly string[];
  readonly timeoutMs: number;
  /** Shared with other calls to the same API server (client-go's QPS and burst). */
  readonly limiter?: Pick<RateLimiter, 'acquire'>;
  /** Authenticated answers, by token hash. */
  readonly cache?: ReviewCache<ReviewedUser>;
}

interface ReviewStatus {
  authenticated?: unknown;
  error?: unknown;
  audiences?: unknown;
  user?: { username?: unknown; uid?: unknown; groups?: unknown; extra?: unknown };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Reads a TokenReview status: the user, or why it is not one. */
export function reviewedUser(
  status: ReviewStatus | undefined,
  audiences: readonly string[],
): ReviewedUser | { readonly reason: string; readonly error: string } {
  if (status === undefined || typeof status !== 'object' || status === null) return { reason: 'no status in the TokenReview', error: '' };
  const error = typeof status.error === 'string' ? status.error : '';
  if (error !== '') return { reason: 'the TokenReview reports an error', error };
  if (status.authenticated !== true) return { reason: 'not authenticated', error };
  if (audiences.length > 0 && !strings(status.audiences).some((a) => audiences.includes(a))) return { reason: 'no requested audience', error };
  const u = status.user ?? {};
  if (typeof u.username !== 'string' || u.username === '') return { reason: 'no username', error };
  const extra: Record<string, string[]> = {};
  if (typeof u.extra === 'object' && u.extra !== null) for (const [k, v] of Object.entries(u.extra)) extra[k.toLowerCase()] = strings(v);
  return { username: u.username, ...(typeof u.uid === 'string' && u.uid !== '' ? { uid: u.uid } : {}), groups: strings(u.groups), extra };
}

export class TokenReviewClient {
  readonly #kube: Pick<KubeClient, 'post'>;
  readonly #o: TokenReviewOptions;

  constructor(kube: Pick<KubeClient, 'post'>, options: TokenReviewOptions) {
    this.#kube = kube;
    this.#o = options;
  }

  async review(token: string): Promise<TokenReviewAnswer> {
    const { audiences, cache, limiter, timeoutMs } = this.#o;
    const key = cache === undefined ? '' : ReviewCache.keyOf(token);
    const hit = cache?.get(key);
    if (hit !== undefined) return { kind: 'authenticated', user: hit };
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(audiences.length > 0 ? { audiences: [...audiences] } : {}) },
    };
    let res;
    try {
      await limiter?.acquire();
      res = await traced('kube.tokenreview', SPAN, () => this.#kube.post(TOKEN_REVIEW_PATH, body, { timeoutMs }));
    } catch (e) {
      return { kind: 'failed', reason: (e as Error).message };
    }
    if (res.status < 200 || res.status > 299) return { kind: 'failed', reason: `TokenReview answered ${res.status}`, status: res.status };
    const user = reviewedUser((res.json as { status?: ReviewStatus } | undefined)?.status, audiences);
    if ('reason' in user) return { kind: 'unauthenticated', ...user };
    cache?.set(key, user);
    return { kind: 'authenticated', user };
  }
}
