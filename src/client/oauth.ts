/**
 * The program side of the judge's program endpoints (oidc/programs/), as `oidc-judge login` uses
 * them: the endpoints under a site's URL and prefix, and the token endpoint's answers.
 */
export interface Endpoints {
  readonly login: string;
  readonly token: string;
  readonly revoke: string;
  readonly device: string;
}

/** The endpoints of the judge at `url` (the site) under `prefix` (`AUTHSERVICE_URL_PREFIX`, default `/authservice/`). */
export function endpointsOf(url: string, prefix: string): Endpoints {
  const base = new URL(prefix.endsWith('/') ? prefix : `${prefix}/`, url.endsWith('/') ? url : `${url}/`);
  const at = (p: string): string => new URL(p, base).href;
  return { login: at('api/login'), token: at('api/token'), revoke: at('api/revoke'), device: at('api/device') };
}

export interface TokenAnswer {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly user?: string;
}

/** An OAuth error answer (RFC 6749 §5.2), as thrown by `postForm`'s callers. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(description === undefined ? error : `${error}: ${description}`);
  }
}

/** POSTs a form and answers the JSON object; an OAuth error answer throws `OAuthError`. */
export async function postForm(url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new OAuthError('invalid_response', `${res.status} from ${url}, not JSON`, res.status);
  }
  if (!res.ok || typeof body['error'] === 'string') {
    const description = typeof body['error_description'] === 'string' ? body['error_description'] : undefined;
    throw new OAuthError(typeof body['error'] === 'string' ? body['error'] : 'invalid_response', description, res.status);
  }
  return body;
}

/** The credential in a token endpoint's success answer. */
export function tokenAnswer(body: Record<string, unknown>): TokenAnswer {
  const accessToken = body['access_token'];
  const expiresIn = body['expires_in'];
  if (typeof accessToken !== 'string' || typeof expiresIn !== 'number') throw new OAuthError('invalid_response', 'no access_token in the answer', 200);
  return { accessToken, expiresIn, ...(typeof body['user'] === 'string' ? { user: body['user'] } : {}) };
}
