/**
 * The identity assertion's settings (`ASSERTION_*`): the header, the issuer and audiences, the
 * lifetime and the claims, and where the signing keys come from (files, or generated and shared
 * through the session store). Their own schema section so that no schema file outgrows a reader.
 */
import { claimNameProblem } from '../judge/claims.js';
import { int, list, oneOf, section, str, structured, url } from './field.js';

/** `host=audience` or `host/path-prefix=audience` pairs (a mapping in the config file): the `aud` of the assertions there. */
function parseAudiences(v: unknown, at: string, errs: string[]): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const put = (host: unknown, aud: unknown): void => {
    const m = typeof host === 'string' ? /^([a-z0-9.-]+)(\/[^\s?#]*)?$/i.exec(host.trim()) : null;
    if (m === null || typeof aud !== 'string' || aud.trim() === '')
      errs.push(`${at}: ${JSON.stringify(host)} must map a host name (or host/path-prefix) to an audience`);
    else out[m[1]!.toLowerCase() + (m[2] ?? '')] = aud.trim();
  };
  if (typeof v === 'string' || Array.isArray(v)) {
    const entries = typeof v === 'string' ? v.split(',').filter((s) => s.trim() !== '') : v;
    for (const e of entries) {
      const i = typeof e === 'string' ? e.indexOf('=') : -1;
      if (i < 0) errs.push(`${at}: entry ${JSON.stringify(e)} must look like host=audience`);
      else put((e as string).slice(0, i), (e as string).slice(i + 1));
    }
  } else if (typeof v === 'object' && v !== null) for (const [h, a] of Object.entries(v)) put(h, a);
  else errs.push(`${at}: must be a list of host=audience`);
  return Object.freeze(out);
}

/** The judge's public URL for `iss`: an absolute prefix, else the redirect URL's origin with the prefix's path; '' when neither is absolute. */
function issuerOf(c: Readonly<Record<string, unknown>>): string {
  const prefix = String(c['authserviceUrlPrefix'] ?? '');
  if (/^https?:\/\//i.test(prefix)) return prefix.replace(/\/+$/, '');
  const redirect = String(c['redirectUrl'] ?? '');
  if (!/^https?:\/\//i.test(redirect)) return '';
  return new URL(redirect).origin + prefix.replace(/\/+$/, '');
}

export const assertionSettings = {
  ...section('Identity assertion', {
    assertionHeader: str(
      'ASSERTION_HEADER',
      'If set, every authenticated allow carries a JWT the judge signs in this header (`Authorization`: as `Bearer <jwt>`), verifiable with `<prefix>/.well-known/jwks.json`; never on skipped paths. Removed from every request first.',
      { default: '' },
    ),
    assertionIssuer: url('ASSERTION_ISSUER', 'The assertions’ `iss`, the judge’s public URL; the JWKS is at `<issuer>/.well-known/jwks.json`.', {
      default: issuerOf,
      defaultDoc: 'an absolute `AUTHSERVICE_URL_PREFIX`, else `REDIRECT_URL`’s origin + the prefix',
    }),
    assertionTtl: int('ASSERTION_TTL', 'Seconds an assertion is valid (`exp` − `iat`); one is reused until shortly before it expires.', {
      default: 60,
      min: 5,
      max: 600,
    }),
    assertionClaims: list(
      'ASSERTION_CLAIMS',
      'Verified claims copied into the assertion under their name (names or dot paths), besides the ones it always has.',
      {
        default: [],
      },
    ),
    assertionAudiences: structured(
      'ASSERTION_AUDIENCES',
      'The `aud` of the assertions per host or route, as `host=audience` or `host/path-prefix=audience` pairs (a mapping in the config file; the longest prefix wins, segment-aware); other requests get their host name.',
      parseAudiences,
      { default: {}, type: 'list' },
    ),
    assertionAlgorithm: oneOf(
      'ASSERTION_ALGORITHM',
      ['ES256', 'RS256', 'EdDSA'],
      'Algorithm of the keys the judge generates (a key file’s own type decides otherwise).',
      {
        default: 'ES256',
      },
    ),
    assertionKeyFile: str(
      'ASSERTION_KEY_FILE',
      'A private key (PEM or JWK; EC P-256, RSA ≥ 2048 bits or Ed25519) that signs the assertions, e.g. a mounted Secret. Empty: keys are generated and shared through the session store.',
      { default: '' },
    ),
    assertionPublishedKeyFiles: list(
      'ASSERTION_PUBLISHED_KEY_FILES',
      'More keys (PEM or JWK, public or private) published but never used to sign: the next key before it signs, the previous one until its assertions expire.',
      { default: [] },
    ),
    assertionKeyRotation: int('ASSERTION_KEY_ROTATION', 'Seconds a generated key signs before the next one takes over.', {
      default: 86_400,
      min: 60,
      max: 90 * 86_400,
    }),
    assertionKeyLead: int(
      'ASSERTION_KEY_LEAD',
      'Seconds every replica publishes a generated key before it signs: longer than verifiers cache the JWKS — istiod refetches a `jwksUri` every 20 min (`PILOT_JWT_PUB_KEY_REFRESH_INTERVAL`).',
      { default: 1800, min: 0, max: 30 * 86_400 },
    ),
    assertionKeyRefresh: int(
      'ASSERTION_KEY_REFRESH',
      'Seconds between two reads of the keys by each replica (the shared key ring, or the key files); a generated key is published two refreshes before it signs.',
      { default: 30, min: 1, max: 600 },
    ),
  }),
};

/** Start-up problems of the assertion settings, each with the setting at fault. */
export function assertionProblems(c: Readonly<Record<string, unknown>>): { key: keyof typeof assertionSettings; message: string }[] {
  if (String(c['assertionHeader'] ?? '').trim() === '') return [];
  const out: { key: keyof typeof assertionSettings; message: string }[] = [];
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(String(c['assertionHeader']).trim())) out.push({ key: 'assertionHeader', message: 'not a valid header name' });
  if (!/^https?:\/\//i.test(String(c['assertionIssuer'] ?? '')))
    out.push({ key: 'assertionIssuer', message: 'required (an absolute URL) when AUTHSERVICE_URL_PREFIX and REDIRECT_URL are paths' });
  for (const claim of (c['assertionClaims'] ?? []) as readonly string[]) {
    const problem = claimNameProblem(claim);
    if (problem !== undefined) out.push({ key: 'assertionClaims', message: problem });
  }
  if ((c['assertionKeyRefresh'] as number) * 2 >= (c['assertionKeyRotation'] as number))
    out.push({ key: 'assertionKeyRefresh', message: 'must be less than half of ASSERTION_KEY_ROTATION' });
  if ((c['assertionKeyLead'] as number) + (c['assertionKeyRefresh'] as number) >= (c['assertionKeyRotation'] as number))
    out.push({
      key: 'assertionKeyLead',
      message: 'plus ASSERTION_KEY_REFRESH must be less than ASSERTION_KEY_ROTATION (a key is announced within the rotation before it)',
    });
  return out;
}
