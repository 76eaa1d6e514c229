/**
 * The options of a `mode: kube` forwarder block (the Kubernetes impersonation proxy), one
 * declaration each: read by forward/kube-proxy/options.ts, documented in docs/ by
 * `npm run docs`. Keys mirror kube-oidc-proxy's flags in camelCase; lists also take one
 * comma-separated string, as the flags do.
 */
import { DEFAULT_SERVICE_ACCOUNT_DIR } from '../../kube/credentials.js';
import { claimName, claimSources } from '../claim-field.js';
import { blockOptions, bool, custom, int, list, number, oneOf, str } from '../field.js';

/** An optional non-blank string (files, addresses). */
const given = (defaultDoc = 'none') => ({ optional: true, nonEmpty: true, defaultDoc });
const pairsType = '`k=v` list or mapping';

export const kubeBlock = blockOptions('kube', {
  oidcIssuerUrl: str('oidcIssuerUrl', 'The issuer (discovery must name it exactly; `https` only). Required, with `oidcClientId`.', {
    optional: true,
    defaultDoc: '**required**',
  }),
  oidcClientId: str('oidcClientId', 'The audience tokens must carry. Required, with `oidcIssuerUrl`.', { optional: true, defaultDoc: '**required**' }),
  oidcCaFile: str('oidcCaFile', 'Extra CA (PEM) trusted for the issuer.', given('system roots')),
  oidcUsernameClaim: claimName('oidcUsernameClaim', 'Claim giving the username, a name or a dot path (`email`: an `email_verified: false` token is refused).', {
    default: 'sub',
    nonEmpty: true,
  }),
  oidcUsernamePrefix: str('oidcUsernamePrefix', 'Not set or empty: `<issuer>#` unless the claim is `email`; `-`: none; else prepended.', {
    optional: true,
    defaultDoc: "kube-apiserver's rule",
  }),
  oidcGroupsClaim: claimSources('oidcGroupsClaim', 'Claim with a string or a list of strings (names or dot paths, comma-separated: merged).', {
    default: '',
    defaultDoc: 'none',
  }),
  oidcGroupsPrefix: str('oidcGroupsPrefix', 'Prefix prepended to each group.', { default: '', defaultDoc: 'none' }),
  oidcUidClaim: claimName('oidcUidClaim', 'Claim sent as `Impersonate-Uid` (a name or a dot path).', { default: '', defaultDoc: 'none', emptyOk: true }),
  oidcSigningAlgs: list('oidcSigningAlgs', 'Allowed algorithms (asymmetric only).', { csv: true, default: ['RS256'] }),
  oidcRequiredClaims: custom('oidcRequiredClaims', pairsType, '`k=v` pairs (CSV or a mapping): each claim must be that string.', {
    optional: true,
    defaultDoc: 'none',
  }),
  oidcAllowHttpIssuer: bool('oidcAllowHttpIssuer', 'Development only: accept an `http://` issuer.', { default: false }),
  oidcRetrySeconds: number('oidcRetrySeconds', 'Discovery/JWKS retry interval until both are loaded.', { min: 0.01, max: 3600, default: 10 }),
  oidcJwksRefreshSeconds: number('oidcJwksRefreshSeconds', 'Key refresh interval.', { min: 1, max: 86_400, default: 600 }),
  oidcClockSkewSeconds: number('oidcClockSkewSeconds', 'Allowance on `exp`/`nbf`/`iat`.', { min: 0, max: 300, default: 5 }),
  kubeconfig: str(
    'kubeconfig',
    "The proxy's own credentials from a kubeconfig (its current context: token, `tokenFile` or client certificate).",
    given('in-cluster'),
  ),
  kubeServer: str('kubeServer', 'API server URL (https, or http), overriding the kubeconfig or in-cluster one.', given()),
  kubeCaFile: str('kubeCaFile', 'CA (PEM) trusted for the API server, overriding the kubeconfig or in-cluster one.', given()),
  kubeTokenFile: str('kubeTokenFile', 'Bearer token file for the API server (re-read when it changes), overriding the kubeconfig or in-cluster one.', given()),
  kubeClientCertificate: str('kubeClientCertificate', 'Client certificate (PEM) for the API server, with `kubeClientKey`.', given()),
  kubeClientKey: str('kubeClientKey', 'Client key (PEM) for the API server, with `kubeClientCertificate`.', given()),
  kubeInsecureSkipTlsVerify: bool('kubeInsecureSkipTlsVerify', "Do not verify the API server's certificate.", { default: false }),
  kubeServiceHost: str('kubeServiceHost', 'In-cluster API server address.', given('`KUBERNETES_SERVICE_HOST`')),
  kubeServicePort: str('kubeServicePort', 'In-cluster API server port.', given('`KUBERNETES_SERVICE_PORT`')),
  serviceAccountDir: str('serviceAccountDir', 'In-cluster token and CA folder.', given(`\`${DEFAULT_SERVICE_ACCOUNT_DIR}\``)),
  disableImpersonation: bool('disableImpersonation', "Forward the request unchanged, the user's bearer token included, with no service credentials.", {
    default: false,
  }),
  inboundImpersonation: oneOf(
    'inboundImpersonation',
    ['reject', 'subjectaccessreview'],
    'Client `Impersonate-*` headers: `reject` (403), or checked by a SubjectAccessReview.',
    { default: 'reject' },
  ),
  tokenPassthrough: bool(
    'tokenPassthrough',
    'Tokens that fail OIDC are checked by TokenReview (with `tokenPassthroughAudiences`) and, when authenticated, forwarded as they are.',
    { default: false },
  ),
  tokenPassthroughAudiences: list('tokenPassthroughAudiences', 'Audiences of the TokenReview (only with `tokenPassthrough`).', {
    csv: true,
    optional: true,
    defaultDoc: 'none',
  }),
  extraUserHeaders: custom('extraUserHeaders', pairsType, '`k=v` extras sent with every impersonated request (CSV, keys may repeat).', {
    optional: true,
    defaultDoc: 'none',
  }),
  extraUserHeaderClientIp: bool(
    'extraUserHeaderClientIp',
    "Add the extra `Remote-Client-IP`: the connection's address, or from `X-Forwarded-For` when the peer is in `trustedProxies`.",
    { default: false },
  ),
  trustedProxies: list('trustedProxies', 'Peers (IPs, CIDRs) whose `X-Forwarded-For` is believed.', { csv: true, optional: true, defaultDoc: 'none' }),
  reviewCacheSeconds: number('reviewCacheSeconds', 'How long an authenticated TokenReview or an allowed SubjectAccessReview is reused (keyed by hash).', {
    min: 0,
    max: 3600,
    default: 10,
  }),
  kubeClientQps: number('kubeClientQps', "Rate of the proxy's own API calls (reviews), per second; 0: unlimited.", {
    min: 0,
    max: 100_000,
    default: 0,
    defaultDoc: 'unlimited',
  }),
  kubeClientBurst: int('kubeClientBurst', "Burst of the proxy's own API calls.", { min: 1, max: 100_000, default: 10 }),
  kubeClientTimeoutSeconds: number('kubeClientTimeoutSeconds', "Deadline of the proxy's own API calls.", { min: 0.1, max: 300, default: 10 }),
  maxRequestBodyBytes: int('maxRequestBodyBytes', "Larger request bodies get 413 (kube-apiserver's own limit).", {
    min: 1,
    max: 2 ** 40,
    default: 3 * 1024 * 1024,
  }),
  upstreamConnectTimeoutSeconds: number('upstreamConnectTimeoutSeconds', 'API server connect deadline.', { min: 0.1, max: 300, default: 5 }),
  upstreamIdleTimeoutSeconds: number('upstreamIdleTimeoutSeconds', 'API server idle deadline; one would cut quiet watches and `logs -f`.', {
    min: 0,
    max: 86_400,
    default: 0,
    defaultDoc: '`0` (none)',
  }),
  accessLog: bool('accessLog', 'The one-line access log below.', { default: true }),
  auditLogPath: str('auditLogPath', 'Audit events as JSON lines to a file (`-`: the service log).', { optional: true, defaultDoc: 'none' }),
  auditLogMaxSizeMb: number('auditLogMaxSizeMb', 'Rotate the audit file past this size.', {
    min: 0,
    max: 1_000_000,
    default: 0,
    defaultDoc: '`0` (never rotate)',
  }),
  auditLogMaxBackups: int('auditLogMaxBackups', 'Rotated audit files kept.', { min: 0, max: 1000, default: 5 }),
});
