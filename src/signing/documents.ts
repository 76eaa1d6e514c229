/**
 * The documents a verifier of the judge's assertions reads: the JWKS (`<prefix>/.well-known/jwks.json`)
 * and a minimal OpenID discovery document (`<prefix>/.well-known/openid-configuration`: `issuer`,
 * `jwks_uri`), as Istio `RequestAuthentication`, Envoy `jwt_authn` and JWT libraries expect. Each
 * comes with a strong ETag of its bytes, rebuilt only when the published keys change.
 */
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import type { AssertionKeys } from './key-files.js';
import type { SigningAlg } from './key.js';

export interface PublishedDocument {
  readonly body: string;
  readonly etag: string;
}

export interface AssertionDocuments {
  /** Paths relative to the service prefix → the document now. */
  readonly byPath: Readonly<Record<string, () => PublishedDocument>>;
  /** Seconds verifiers may cache them (`Cache-Control: max-age`). */
  readonly maxAge: number;
}

function documentOf(value: unknown): PublishedDocument {
  const body = JSON.stringify(value);
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

export const JWKS_PATH = '.well-known/jwks.json';
export const DISCOVERY_PATH = '.well-known/openid-configuration';

/**
 * `maxAge` must stay below the lead a new key is published with, so a verifier that cached the
 * JWKS sees a new key before it signs (verifiers also refetch on an unknown `kid`).
 */
export function assertionDocuments(issuer: string, keys: AssertionKeys, algs: readonly SigningAlg[], maxAge: number): AssertionDocuments {
  const base = issuer.replace(/\/+$/, '');
  const discovery = documentOf({
    issuer,
    jwks_uri: `${base}/${JWKS_PATH}`,
    id_token_signing_alg_values_supported: algs,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
  });
  let last: readonly JWK[] | undefined;
  let jwks = documentOf({ keys: [] });
  return {
    maxAge,
    byPath: {
      [JWKS_PATH]: () => {
        const now = keys.published();
        if (now !== last) {
          last = now;
          jwks = documentOf({ keys: now });
        }
        return jwks;
      },
      [DISCOVERY_PATH]: () => discovery,
    },
  };
}
