/**
 * Browser logins at the test provider (op.ts), for tests that need the authorization-code flow
 * but no sign-in form: the interaction completes by itself — the account in `next` signs in with
 * the `acr` / `amr` the test chose, at an `auth_time` read from the test's clock (so `max_age`
 * and step-up tests move a clock, never wait) — consent is granted as asked, and every
 * authorization request's query is recorded. Pass `options` to `startOp`; a provider shape
 * (shapes-*.ts) adds its own `configure` on top with `chain`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../src/clock.js';
import type { OpInteractions } from '../../src/demo/interactions.js';
// The policy module itself, not the package's entry (which prints a runtime warning on Node 20: src/demo/provider.ts).
import * as interactionPolicy from 'oidc-provider/lib/helpers/interaction_policy/index.js';
import type { OpOptions } from './op.js';

/** The part of oidc-provider's interaction policy API used here (the package ships no types). */
interface PolicyApi {
  readonly Check: (new (
    reason: string,
    description: string,
    check: (ctx: AcrCtx) => boolean,
  ) => unknown) & { REQUEST_PROMPT: boolean; NO_NEED_TO_PROMPT: boolean };
  base(): { get(name: string): { checks: { add(check: unknown): void } } };
}
interface AcrCtx {
  readonly oidc: { readonly params?: Readonly<Record<string, unknown>>; readonly acr?: string };
}

/**
 * The provider's policy, plus what a provider that steps up does: a login whose session's `acr` is
 * none of the `acr_values` asked for signs in again (oidc-provider only does so for an essential
 * `acr` in the `claims` parameter).
 */
function stepUpPolicy(honour: () => boolean): unknown {
  const { Check, base } = interactionPolicy as unknown as PolicyApi;
  const policy = base();
  policy.get('login').checks.add(
    new Check('acr_values_unmet', 'none of the requested acr_values was obtained', (ctx) => {
      const asked = ctx.oidc.params?.['acr_values'];
      if (typeof asked !== 'string' || asked === '' || !honour()) return Check.NO_NEED_TO_PROMPT;
      return asked.split(' ').includes(ctx.oidc.acr ?? '') ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

type Configure = (config: Record<string, unknown>) => Record<string, unknown>;

export interface NextLogin {
  sub: string;
  acr?: string;
  amr?: string[];
}

export interface OpLoginOptions {
  /** Registered redirect URIs of the provider's client. */
  readonly redirectUris: readonly string[];
  /** Claims of an account (ID token and userinfo) besides `sub`; default a verified `<sub>@example.com`. */
  readonly claims?: (sub: string) => Record<string, unknown>;
  /** `auth_time` of a sign-in (ms); default the real time. */
  readonly clock?: Clock;
  /** `acr_values_supported`. */
  readonly acrValues?: readonly string[];
  /** More configuration on top (a provider shape). */
  readonly configure?: Configure;
}

export interface OpLogin {
  readonly options: Required<Pick<OpOptions, 'configure' | 'intercept'>>;
  /** Who signs in at the next login, and how strongly. */
  next: NextLogin;
  /** False: the provider treats `acr_values` as a mere hint (single sign-on without a new sign-in), as some do. */
  honourAcrValues: boolean;
  /** The query of every authorization request, in order. */
  readonly requests: URLSearchParams[];
  /** Sign-ins completed (an interaction that asked for a login). */
  readonly signIns: number;
}

export const chain =
  (...fs: (Configure | undefined)[]): Configure =>
  (c) =>
    fs.reduce((acc, f) => (f ? f(acc) : acc), c);

const defaultClaims = (sub: string): Record<string, unknown> => ({ email: `${sub}@example.com`, email_verified: true });

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/;

export function opLogin(o: OpLoginOptions): OpLogin {
  const requests: URLSearchParams[] = [];
  let signIns = 0;
  const state: OpLogin = {
    next: { sub: 'alice' },
    honourAcrValues: true,
    requests,
    get signIns() {
      return signIns;
    },
    options: {
      configure: chain((c) => {
        const [client, ...others] = c['clients'] as Record<string, unknown>[];
        const features = c['features'] as Record<string, Record<string, unknown>>;
        return {
          ...c,
          clients: [
            {
              ...client,
              redirect_uris: [...o.redirectUris],
              grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
              // auth_time in every ID token, as many providers send it.
              require_auth_time: true,
            },
            ...others,
          ],
          findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ ...(o.claims ?? defaultClaims)(sub), sub }) }),
          scopes: ['openid', 'offline_access', 'email', 'profile', 'api'],
          claims: {
            auth_time: null,
            sid: null,
            iss: null,
            openid: ['sub', 'acr', 'amr'],
            email: ['email', 'email_verified'],
            profile: ['name', 'preferred_username'],
          },
          conformIdTokenClaims: false,
          // A login's access token is opaque (userinfo's) unless the request names a resource.
          features: { ...features, resourceIndicators: { ...features['resourceIndicators'], defaultResource: () => undefined } },
          ...(o.acrValues ? { acrValues: [...o.acrValues], interactions: { policy: stepUpPolicy(() => state.honourAcrValues) } } : {}),
        };
      }, o.configure),
      intercept: async (provider, req, res) => {
        const url = new URL(req.url ?? '/', 'http://op.invalid');
        if (url.pathname === '/auth') requests.push(url.searchParams);
        const m = INTERACTION.exec(url.pathname);
        if (m === null || req.method !== 'GET') return false;
        await finish(provider as unknown as OpInteractions, req, res);
        return true;
      },
    },
  };

  async function finish(op: OpInteractions, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const d = await op.interactionDetails(req, res);
    if (d.prompt.name === 'login') {
      signIns++;
      const { sub, acr, amr } = state.next;
      const ts = Math.floor((o.clock?.now() ?? Date.now()) / 1000);
      await op.interactionFinished(
        req,
        res,
        { login: { accountId: sub, ts, ...(acr ? { acr } : {}), ...(amr ? { amr } : {}) } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = d.session?.accountId;
    const clientId = d.params['client_id'];
    if (accountId === undefined || typeof clientId !== 'string') throw new Error(`unexpected prompt ${d.prompt.name}`);
    const grant = (d.grantId !== undefined ? await op.Grant.find(d.grantId) : undefined) ?? new op.Grant({ accountId, clientId });
    const missing = d.prompt.details;
    if (Array.isArray(missing['missingOIDCScope'])) grant.addOIDCScope(missing['missingOIDCScope'].join(' '));
    if (Array.isArray(missing['missingOIDCClaims'])) grant.addOIDCClaims(missing['missingOIDCClaims'].map(String));
    const resources = missing['missingResourceScopes'];
    if (resources && typeof resources === 'object') {
      for (const [indicator, s] of Object.entries(resources as Record<string, unknown>)) if (Array.isArray(s)) grant.addResourceScope(indicator, s.join(' '));
    }
    await op.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  return state;
}
