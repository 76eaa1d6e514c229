/**
 * The decision core: one transport-neutral function `decide(request) → Decision`, a short list of
 * named steps — host check → skip rules → authenticators → authorizers → allow. It owns no listener and reads no
 * environment; stores and providers are reached only through the ports it is given.
 */
import type { Authenticator, Authorizer, StepUpNeed, Target } from './ports.js';
import { deny, type Allow, type Decision, type HeaderPair, type Identity } from './decision.js';
import type { AssertionSigner } from './upstream/assertion.js';
import type { IdentityHeaders } from './upstream/identity-headers.js';
import type { JudgeRequest } from './request.js';
import type { Responses } from './responses.js';
import type { SkipMatcher } from './skip.js';
import type { Strip } from './strip.js';
import { isNavigation } from './browser.js';
import { holds, minus, plus, withCookie, withPair } from './shared-lists.js';

/** Starts a browser login (a 302 to the provider, with state); provided once the login flow exists. */
export interface LoginStarter {
  start(req: JudgeRequest): Promise<Decision>;
  /** A new login asking for a stronger authentication (`acr_values`, `max_age`), back to this request's URL. */
  stepUp?(req: JudgeRequest, need: StepUpNeed): Promise<Decision>;
}

/**
 * The service's own endpoints that the judge answers itself (login callback, logout), checked
 * before the skip rules: when a proxy sends everything to the judge, the answer travels back as
 * the deny response (a 302 with `Set-Cookie`, a 201 for logout), as oidc-authservice did.
 * `undefined` when the request is not for one of them.
 */
export type OwnRoutes = (req: JudgeRequest, target: Target) => Promise<Decision | undefined> | undefined;

export interface JudgeDeps {
  readonly ownRoutes?: OwnRoutes;
  readonly targetOf: (req: JudgeRequest) => Target;
  readonly skip: SkipMatcher;
  readonly authenticators: readonly Authenticator[];
  readonly authorizers: readonly Authorizer[];
  readonly identityHeaders: IdentityHeaders;
  /** The strip list (prefix matches, the judge's cookies); its fixed names are in `identityHeaders`' lists already. */
  readonly strip?: Strip;
  /** `AUTH_HEADER`, lower-case: removed when it carried the session id that vouched. */
  readonly authHeader?: string;
  readonly responses: Responses;
  readonly login?: LoginStarter;
  /** `API_ROUTES`: requests that get 401, never a login redirect (judge/browser.ts). */
  readonly apiRoute?: (req: JudgeRequest) => boolean;
  /** `ASSERTION_HEADER`: the judge's signed assertion on every authenticated allow; absent, no cost. */
  readonly assertion?: AssertionSigner;
  /** Called when an authorizer denies (oidc-authservice revokes the session then). */
  readonly onForbidden?: (identity: Identity, req: JudgeRequest) => Promise<void> | void;
}

export type Judge = (req: JudgeRequest) => Promise<Decision>;

type Authenticated = { readonly identity: Identity } | { readonly decision: Decision };

const NONE: readonly never[] = Object.freeze([]);

/** A Host / :authority no server could read as one name (judge/host.ts): refused before anything else. */
const BAD_HOST: Decision = Object.freeze(
  deny(400, 'bad-host', JSON.stringify({ error: 'bad_request', message: 'Unreadable Host' }), [
    ['content-type', 'application/json'],
    ['cache-control', 'no-store'],
  ]),
);

export function createJudge(deps: JudgeDeps): Judge {
  const { identityHeaders, responses, authenticators, authorizers, strip, assertion } = deps;
  const authHeader = deps.authHeader?.toLowerCase();
  // An assertion in AUTH_HEADER replaces what the client sent there: nothing to echo.
  const assertionInAuth = assertion !== undefined && assertion.header === authHeader;
  // One frozen answer per skip rule (their labels are few and fixed).
  const skipAllows = new Map<string, Allow>();
  const skipAllow = (rule: string): Allow => {
    let a = skipAllows.get(rule);
    if (a === undefined) {
      a = Object.freeze({
        kind: 'allow',
        upstreamHeaders: NONE,
        removeHeaders: identityHeaders.removeOnSkip,
        responseHeaders: NONE,
        reason: 'skip',
        skipRule: rule,
      });
      skipAllows.set(rule, a);
    }
    return a;
  };

  /**
   * The request's own part of an allow: strip-list names seen in it (prefixes, odd spellings), and
   * `Cookie` without the judge's cookies. The shared lists come back unchanged when there is none.
   */
  function edited(allow: Allow, req: JudgeRequest): Allow {
    const scanned = strip?.scan(req.headers);
    const auth = authHeader === undefined ? undefined : req.headers[authHeader];
    if (scanned === undefined && auth === undefined) return allow;
    let { upstreamHeaders: upstream, removeHeaders: remove } = allow;
    if (scanned?.extra !== undefined) {
      const extra = scanned.extra.filter((n) => !remove.includes(n) && !upstream.some(([u]) => u === n));
      if (extra.length > 0) remove = [...remove, ...extra];
    }
    const cookie = scanned?.cookie;
    if (scanned?.cookieChanged === true) {
      if (cookie === undefined) remove = plus(remove, 'cookie');
      else upstream = withCookie(upstream, cookie);
    }
    const keptAuth = auth !== undefined && !assertionInAuth && !holds(remove, authHeader!);
    const echo: HeaderPair[] = [];
    if (cookie !== undefined) echo.push(['cookie', cookie]);
    if (keptAuth) echo.push([authHeader!, auth]);
    if (upstream === allow.upstreamHeaders && remove === allow.removeHeaders && echo.length === 0) return allow;
    // One literal (not a spread): every allow keeps the same object shape.
    return {
      kind: 'allow',
      upstreamHeaders: upstream,
      removeHeaders: remove,
      responseHeaders: allow.responseHeaders,
      reason: allow.reason,
      ...(allow.skipRule !== undefined ? { skipRule: allow.skipRule } : {}),
      ...(allow.identity !== undefined ? { identity: allow.identity } : {}),
      echo,
    };
  }

  // Skip rules that ask for the assertion of a caller with credentials (none: the skip step is as before).
  const asserting = assertion !== undefined && deps.skip.asserting !== undefined && deps.skip.asserting.size > 0 ? deps.skip.asserting : undefined;

  /** Step 1: skip rules (the service's own prefix, SKIP_AUTH_URLS, skipRules). */
  function skip(target: Target, req: JudgeRequest): Decision | Promise<Decision> | undefined {
    const rule = deps.skip.matches(target, req);
    if (rule === undefined) return undefined;
    if (asserting?.has(rule) === true) return skipAsserted(rule, target, req);
    return edited(skipAllow(rule), req);
  }

  /**
   * Step 1 for a skip rule with `assertion: true`: the request passes whatever its credentials,
   * and carries the assertion when an authenticator vouches for it (never a 401, a login or a 503).
   */
  async function skipAsserted(rule: string, target: Target, req: JudgeRequest): Promise<Decision> {
    const plain = edited(skipAllow(rule), req);
    let identity: Identity | undefined;
    for (const a of authenticators) {
      const pending = a.authenticate(req);
      const out = pending instanceof Promise ? await pending : pending;
      if (out.kind === 'ok') {
        identity = out.identity;
        break;
      }
      if (out.kind === 'invalid' && !out.fallThrough) break;
    }
    if (identity === undefined || plain.kind !== 'allow') return plain;
    const value = await assertion!.assert(identity, target);
    if (value === undefined) return plain;
    const name = assertion!.header;
    return { ...plain, upstreamHeaders: withPair(plain.upstreamHeaders, name, value), removeHeaders: minus(plain.removeHeaders, name), identity };
  }

  /**
   * Step 2: the authenticator chain. First `ok` wins; `invalid` stops with 401 (with `fallThrough`:
   * 401 unless a later one vouches); `unavailable` → 503 if nobody else vouches.
   */
  async function authenticate(req: JudgeRequest): Promise<Authenticated> {
    let unavailable: string | undefined;
    let rejected: { readonly by: string; readonly reason: string } | undefined;
    for (const a of authenticators) {
      // Most authenticators answer synchronously when a request is not theirs: no await then.
      const pending = a.authenticate(req);
      const out = pending instanceof Promise ? await pending : pending;
      switch (out.kind) {
        case 'ok':
          return { identity: out.identity };
        case 'invalid':
          if (out.fallThrough) {
            rejected ??= { by: a.name, reason: out.reason };
            break;
          }
          return { decision: responses.invalidToken(req, a.name, out.reason) };
        case 'unavailable':
          unavailable ??= `${a.name}: ${out.reason}`;
          break;
        case 'none':
          break;
      }
    }
    if (unavailable !== undefined) return { decision: responses.unavailable(req, unavailable) };
    if (rejected !== undefined) return { decision: responses.invalidToken(req, rejected.by, rejected.reason) };
    if (deps.login && req.denyStyle === 'redirect' && isNavigation(req) && deps.apiRoute?.(req) !== true) return { decision: await deps.login.start(req) };
    return { decision: responses.unauthenticated(req) };
  }

  /** Step 3: every authorizer must allow. */
  async function authorize(identity: Identity, target: Target, req: JudgeRequest): Promise<Decision | undefined> {
    for (const z of authorizers) {
      const pending = z.authorize(identity, target, req);
      const out = pending instanceof Promise ? await pending : pending;
      if (out.kind === 'allow') continue;
      if (out.kind === 'error') return responses.authzError(req, identity);
      if (out.kind === 'step-up') return stepUp(identity, req, out.need, out.reason);
      await deps.onForbidden?.(identity, req);
      return responses.forbidden(req, identity, out.reason, out.message);
    }
    return undefined;
  }

  /**
   * A rule wants a stronger sign-in (RFC 9470): a browser navigation on a session signs in again
   * asking for it; anything else is told so in a 401 challenge.
   */
  function stepUp(identity: Identity, req: JudgeRequest, need: StepUpNeed, reason: string): Promise<Decision> | Decision {
    const login = deps.login;
    if (
      login?.stepUp !== undefined &&
      identity.authenticator === 'session' &&
      identity.method === 'cookie' &&
      req.denyStyle === 'redirect' &&
      isNavigation(req)
    )
      return login.stepUp(req, need);
    return responses.insufficientAuthentication?.(req, identity, need, reason) ?? responses.forbidden(req, identity, reason);
  }

  /**
   * Step 4: allow, with the identity headers, every forgeable spelling and the judge's credentials
   * removed (the session cookie, and `AUTH_HEADER` when it carried the session id). A user id no
   * header can carry as it is refuses the allow instead.
   */
  function allow(identity: Identity, req: JudgeRequest, target: Target): Decision | Promise<Decision> {
    const headers = identityHeaders.forAllow(identity);
    if (headers === undefined) return responses.forbidden(req, identity, 'the user id cannot be sent in a header');
    const fromHeader =
      identity.method !== 'cookie' && identity.sessionId !== undefined && authHeader !== undefined && !headers.upstream.some(([n]) => n === authHeader);
    const remove = fromHeader ? plus(headers.remove, authHeader) : headers.remove;
    if (assertion !== undefined) {
      const value = assertion.assert(identity, target);
      return value instanceof Promise
        ? value.then((v) => asserted(identity, req, headers.upstream, remove, v))
        : asserted(identity, req, headers.upstream, remove, value);
    }
    return edited({ kind: 'allow', upstreamHeaders: headers.upstream, removeHeaders: remove, responseHeaders: NONE, reason: 'authenticated', identity }, req);
  }

  /** Step 4 with `ASSERTION_HEADER`: the signed assertion joins the identity headers (503 when no key can sign). */
  function asserted(identity: Identity, req: JudgeRequest, upstream: readonly HeaderPair[], remove: readonly string[], value: string | undefined): Decision {
    if (value === undefined) return responses.unavailable(req, 'assertion: no signing key');
    const name = assertion!.header;
    return edited(
      {
        kind: 'allow',
        upstreamHeaders: withPair(upstream, name, value),
        removeHeaders: minus(remove, name),
        responseHeaders: NONE,
        reason: 'authenticated',
        identity,
      },
      req,
    );
  }

  return async function decide(req) {
    const target = deps.targetOf(req);
    if (target.badHost === true) return BAD_HOST;
    const own = deps.ownRoutes?.(req, target);
    if (own !== undefined) {
      const answered = await own;
      if (answered !== undefined) return answered;
    }
    const skipped = skip(target, req);
    if (skipped) return skipped;
    const authn = await authenticate(req);
    if ('decision' in authn) return authn.decision;
    return (await authorize(authn.identity, target, req)) ?? allow(authn.identity, req, target);
  };
}
