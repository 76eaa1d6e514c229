/**
 * What Istio `RequestAuthentication` checks of the `Authorization: Bearer` a request reaches the
 * gateway with: a JWT signed by a key of the issuer's published key set (found by discovery), with
 * that `iss` and the audience (Kubeflow: the client id). The Kubeflow tests verify the ID tokens the
 * judge forwards with it, at the judge's time.
 */
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyResult } from 'jose';

export type IstioJwtCheck = (token: string) => Promise<JWTVerifyResult>;

/** A `RequestAuthentication` for this issuer and audience; `now` is the clock the expiry is judged on. */
export async function requestAuthentication(issuer: string, audience: string, now: () => number = Date.now): Promise<IstioJwtCheck> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
  return (token) => jwtVerify(token, keys, { issuer, audience, currentDate: new Date(now()) });
}

/** The token of a header's single `Bearer <token>` value (a list of values must hold exactly one). */
export function bearerToken(values: string | readonly string[] | undefined): string {
  const list = typeof values === 'string' ? [values] : (values ?? []);
  assert.equal(list.length, 1, 'exactly one Authorization header');
  const m = /^Bearer (\S+)$/.exec(list[0]!);
  assert.ok(m, list[0]);
  return m[1]!;
}
