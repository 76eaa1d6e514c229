/**
 * Inbound impersonation checked by SubjectAccessReview (the Tremolo fork's `kubectl --as`
 * support, with its defects fixed): one `impersonate` review per user (or service account), group,
 * uid and extra value, on the resources kube-apiserver itself checks — `users`, `groups`,
 * `serviceaccounts` (core) and `uids`, `userextras/<key>` (`authentication.k8s.io`) — each asked
 * as the authenticated requester. No `Impersonate-User` or an unknown `Impersonate-*` header is a
 * 400; a denial a 403 naming what was refused; an API failure a 503. On success the target
 * identity carries the `originaluser.jetstack.io-*` extras naming the requester.
 */
import type { KubeClient } from '../../kube/client.js';
import type { Logger } from '../../obs/log.js';
import { withAuthenticated, type InboundImpersonation, type KubeUser } from './impersonate.js';
import { ReviewCache, type RateLimiter } from '../../kube/review-cache.js';

export const SUBJECT_ACCESS_REVIEWS = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const AUTHN_GROUP = 'authentication.k8s.io';
const SA_PREFIX = 'system:serviceaccount:';

export type SarOutcome =
  | { readonly kind: 'ok'; readonly target: KubeUser }
  | { readonly kind: 'refused'; readonly status: 400 | 403 | 503; readonly message: string };

interface Check {
  readonly attributes: Readonly<Record<string, string>>;
  /** `user 'x'`, `group 'g'`, … for the denial message. */
  readonly what: string;
}

/** The reviews kube-apiserver's impersonation filter would make, in its order. */
export function impersonationChecks(inbound: InboundImpersonation): Check[] {
  const out: Check[] = [];
  const u = inbound.username ?? '';
  const sa = u.startsWith(SA_PREFIX) ? u.slice(SA_PREFIX.length).split(':') : undefined;
  if (sa !== undefined && sa.length === 2 && sa[0] !== '' && sa[1] !== '') {
    out.push({ attributes: { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[0]!, name: sa[1]! }, what: `user '${u}'` });
  } else out.push({ attributes: { verb: 'impersonate', group: '', resource: 'users', name: u }, what: `user '${u}'` });
  for (const g of inbound.groups) out.push({ attributes: { verb: 'impersonate', group: '', resource: 'groups', name: g }, what: `group '${g}'` });
  if (inbound.uid !== undefined && inbound.uid !== '')
    out.push({ attributes: { verb: 'impersonate', group: AUTHN_GROUP, resource: 'uids', name: inbound.uid }, what: `uid '${inbound.uid}'` });
  for (const [k, vs] of Object.entries(inbound.extra)) {
    for (const v of vs)
      out.push({ attributes: { verb: 'impersonate', group: AUTHN_GROUP, resource: 'userextras', subresource: k, name: v }, what: `extra info '${k}'='${v}'` });
  }
  return out;
}

/** The identity forwarded after the reviews allowed it, with the requester named in `originaluser.jetstack.io-*` extras. */
export function impersonatedTarget(requester: KubeUser, inbound: InboundImpersonation): KubeUser {
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(inbound.extra)) extra[k] = [...v];
  extra['originaluser.jetstack.io-user'] = [requester.username];
  if (requester.groups.length > 0) extra['originaluser.jetstack.io-groups'] = [...requester.groups];
  if (requester.uid !== undefined && requester.uid !== '') extra['originaluser.jetstack.io-uid'] = [requester.uid];
  if (Object.keys(requester.extra).length > 0) extra['originaluser.jetstack.io-extra'] = [JSON.stringify(requester.extra)];
  return {
    username: inbound.username ?? '',
    ...(inbound.uid !== undefined && inbound.uid !== '' ? { uid: inbound.uid } : {}),
    groups: withAuthenticated(inbound.groups),
    extra,
  };
}

export interface SarDeps {
  readonly client: Pick<KubeClient, 'post'>;
  readonly limiter: RateLimiter;
  readonly cache: ReviewCache<true>;
  readonly log: Logger;
  readonly timeoutMs: number;
}

export class ImpersonationReviewer {
  constructor(private readonly d: SarDeps) {}

  async check(requester: KubeUser, inbound: InboundImpersonation, requestId: string): Promise<SarOutcome> {
    if (inbound.unknown.length > 0) return { kind: 'refused', status: 400, message: `unknown impersonation header ${inbound.unknown[0]}` };
    if (inbound.username === undefined || inbound.username === '')
      return { kind: 'refused', status: 400, message: 'no Impersonate-User header found for request' };
    const subject = {
      user: requester.username,
      groups: withAuthenticated(requester.groups),
      ...(requester.uid !== undefined ? { uid: requester.uid } : {}),
      extra: requester.extra,
    };
    const answers = await Promise.all(impersonationChecks(inbound).map((c) => this.#allowed(subject, c, requestId)));
    for (const [i, c] of impersonationChecks(inbound).entries()) {
      const a = answers[i];
      if (a === 'error') return { kind: 'refused', status: 503, message: 'Service unavailable' };
      if (a === false) return { kind: 'refused', status: 403, message: `${requester.username} is not allowed to impersonate ${c.what}` };
    }
    return { kind: 'ok', target: impersonatedTarget(requester, inbound) };
  }

  async #allowed(subject: Record<string, unknown>, c: Check, requestId: string): Promise<boolean | 'error'> {
    const spec = { ...subject, resourceAttributes: c.attributes };
    const key = ReviewCache.keyOf(JSON.stringify(spec));
    if (this.d.cache.get(key) === true) return true;
    let res;
    try {
      await this.d.limiter.acquire();
      res = await this.d.client.post(
        SUBJECT_ACCESS_REVIEWS,
        { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
        { timeoutMs: this.d.timeoutMs },
      );
    } catch (e) {
      this.d.log.warn({ requestId, err: (e as Error).message }, 'SubjectAccessReview failed');
      return 'error';
    }
    if (res.status < 200 || res.status > 299) {
      this.d.log.warn({ requestId, status: res.status }, 'SubjectAccessReview answered an error');
      return 'error';
    }
    const allowed = (res.json as { status?: { allowed?: unknown } } | undefined)?.status?.allowed === true;
    if (allowed) this.d.cache.set(key, true);
    return allowed;
  }
}
