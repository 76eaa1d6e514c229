/**
 * oauth2-proxy options → our settings, key by key; the three sources and their precedence (flags >
 * OAUTH2_PROXY_* > cfg); unknown options refused by name; Kubeflow's shipped cfg mapped whole, and
 * the settings it gives loaded by the ordinary loader.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCfg } from '../../../src/compat/oauth2-proxy/cfg-parse.js';
import { oauth2ProxyCommand } from '../../../src/compat/oauth2-proxy/command.js';
import { goDurationSeconds, searchPattern } from '../../../src/compat/oauth2-proxy/ctx.js';
import { mapOptions } from '../../../src/compat/oauth2-proxy/map.js';
import { readOptions, splitFlags, type Key, type Options } from '../../../src/compat/oauth2-proxy/options.js';
import { jwtIssuerEntry } from '../../../src/config/jwt-issuers.js';
import { loadConfig } from '../../../src/config/load.js';
import { KUBEFLOW_CFG } from './fixture.js';

const BASE = {
  provider: 'oidc',
  oidc_issuer_url: 'https://idp.example.com',
  client_id: 'kf',
  client_secret: 's3cret-value',
  email_domains: ['*'],
};

/** Options as if from the cfg file. */
function opts(o: Record<string, string | boolean | readonly string[]>): Options {
  const out: Record<string, { value: unknown; from: string }> = {};
  for (const [k, v] of Object.entries({ ...BASE, ...o })) out[k] = { value: v, from: `cfg ${k}` };
  return out as Options;
}
const mapped = (o: Record<string, string | boolean | readonly string[]>) => mapOptions(opts(o));
const settings = (o: Record<string, string | boolean | readonly string[]>): Record<string, string> => {
  const m = mapped(o);
  assert.deepEqual(m.errors, []);
  return { ...m.settings };
};
const without = (k: Key) => {
  const o = opts({}) as Record<string, unknown>;
  delete o[k];
  return mapOptions(o as Options);
};

describe('oauth2-proxy options → settings, key by key', () => {
  it('provider: only "oidc"; oauth2-proxy defaults to google, so it is required', () => {
    assert.match(mapped({ provider: 'github' }).errors.join(), /cfg provider: "github" is not supported; only "oidc"/);
    assert.match(without('provider').errors.join(), /provider: required/);
  });

  it('oidc_issuer_url → OIDC_PROVIDER; client_id → CLIENT_ID (both required)', () => {
    const s = settings({});
    assert.equal(s['OIDC_PROVIDER'], 'https://idp.example.com');
    assert.equal(s['CLIENT_ID'], 'kf');
    assert.match(without('oidc_issuer_url').errors.join(), /oidc_issuer_url: required/);
    assert.match(without('client_id').errors.join(), /client_id: required/);
  });

  it('client_secret → CLIENT_SECRET; client_secret_file → CLIENT_SECRET_FILE; not both', () => {
    assert.equal(settings({})['CLIENT_SECRET'], 's3cret-value');
    const o = opts({ client_secret_file: '/run/secret' }) as Record<string, unknown>;
    delete o['client_secret'];
    assert.equal(mapOptions(o as Options).settings['CLIENT_SECRET_FILE'], '/run/secret');
    const both = mapped({ client_secret_file: '/run/secret' });
    assert.match(both.errors.join(), /client_secret_file: set together with client_secret/);
    assert.ok(!both.errors.join().includes('s3cret-value'));
  });

  it('cookie_name → SESSION_COOKIE_NAME (oauth2-proxy default _oauth2_proxy); cookie_secure → SESSION_COOKIE_SECURE', () => {
    assert.equal(settings({})['SESSION_COOKIE_NAME'], '_oauth2_proxy');
    assert.equal(settings({ cookie_name: 'oauth2_proxy_kubeflow' })['SESSION_COOKIE_NAME'], 'oauth2_proxy_kubeflow');
    assert.equal(settings({})['SESSION_COOKIE_SECURE'], undefined);
    assert.equal(settings({ cookie_secure: false })['SESSION_COOKIE_SECURE'], 'false');
  });

  it('cookie_expire → SESSION_MAX_AGE (default 168h); 0 is refused; cookie_refresh > 0 warns', () => {
    assert.equal(settings({})['SESSION_MAX_AGE'], String(168 * 3600));
    assert.equal(settings({ cookie_expire: '24h' })['SESSION_MAX_AGE'], '86400');
    assert.equal(settings({ cookie_expire: '1h30m' })['SESSION_MAX_AGE'], '5400');
    assert.match(mapped({ cookie_expire: '0' }).errors.join(), /cookie_expire: must be at least 1m/);
    assert.match(mapped({ cookie_expire: 'a day' }).errors.join(), /cookie_expire: "a day" is not a duration/);
    assert.deepEqual(mapped({ cookie_refresh: '0' }).warnings, []);
    assert.match(mapped({ cookie_refresh: '1h' }).warnings.join(), /cookie_refresh: not used; .*TOKEN_REFRESH_MARGIN/);
  });

  it('cookie_secret: accepted, said to be unused (the cookie holds only a session id), never echoed', () => {
    const m = mapped({ cookie_secret: '7d16fee92f8d11b8940b081b3f8b8acb' });
    assert.deepEqual(m.errors, []);
    assert.match(m.warnings.join(), /cfg cookie_secret: not used; the session is kept in the session store/);
    assert.ok(!JSON.stringify(m).includes('7d16fee92f8d11b8940b081b3f8b8acb'));
  });

  it('email_domains: "*" → no rule; domains → an access rule on the verified email; required; odd forms refused', () => {
    assert.equal(settings({})['AUTHZ_RULES'], undefined);
    assert.deepEqual(JSON.parse(settings({ email_domains: ['example.com', 'corp.example'] })['AUTHZ_RULES']!), [
      { match: {}, allow: { domains: ['example.com', 'corp.example'] } },
    ]);
    assert.match(without('email_domains').errors.join(), /email_domains: required/);
    assert.match(mapped({ email_domains: ['.example.com'] }).errors.join(), /cfg email_domains: "\.example\.com": only whole domains/);
  });

  it('skip_auth_routes (METHOD=regex, regex) and skip_auth_regex → SKIP_RULES searched like Go; negation refused', () => {
    const rules = JSON.parse(settings({ skip_auth_routes: ['^/dex/', 'get=^/public$', 'POST=/hook'], skip_auth_regex: ['/healthz'] })['SKIP_RULES']!);
    assert.deepEqual(rules, [
      { path: { regex: '.*(?:/healthz).*' } },
      { path: { regex: '.*(?:^/dex/).*' } },
      { methods: ['GET'], path: { regex: '.*(?:^/public$).*' } },
      { methods: ['POST'], path: { regex: '.*(?:/hook).*' } },
    ]);
    assert.match(mapped({ skip_auth_routes: ['GET!=^/private'] }).errors.join(), /negated routes \(!=\) are not supported/);
  });

  it('api_routes → API_ROUTES, searched like Go', () => {
    assert.deepEqual(JSON.parse(settings({ api_routes: ['/api/', '^/ml_metadata'] })['API_ROUTES']!), ['.*(?:/api/).*', '.*(?:^/ml_metadata).*']);
    assert.equal(settings({})['API_ROUTES'], undefined);
  });

  it('skip_jwt_bearer_tokens: bearer JWTs with the client id as audience, or none; never TokenReview', () => {
    const on = settings({ skip_jwt_bearer_tokens: true });
    assert.equal(on['ACCESS_TOKEN_AUTHN_ENABLED'], 'true');
    assert.equal(on['IDTOKEN_AUTHN_ENABLED'], 'true');
    assert.equal(on['AUDIENCES'], 'kf');
    assert.equal(on['KUBERNETES_AUTHN_ENABLED'], 'false');
    const off = settings({});
    assert.equal(off['ACCESS_TOKEN_AUTHN_ENABLED'], 'false');
    assert.equal(off['IDTOKEN_AUTHN_ENABLED'], 'false');
    assert.equal(off['KUBERNETES_AUTHN_ENABLED'], 'false');
  });

  it('extra_jwt_issuers: issuer=audience pairs → one JWT_ISSUERS entry per issuer with its own audiences; ignored (with a warning) without skip_jwt_bearer_tokens', () => {
    const s = settings({
      skip_jwt_bearer_tokens: true,
      extra_jwt_issuers: [
        'https://kubernetes.default.svc.cluster.local=https://kubernetes.default.svc.cluster.local',
        'https://oidc.eks/id/1=sts=x',
        'https://oidc.eks/id/1=other',
        'https://idp.example.com=second-client',
      ],
    });
    assert.deepEqual(JSON.parse(s['JWT_ISSUERS']!), [
      {
        issuer: 'https://kubernetes.default.svc.cluster.local',
        audiences: ['https://kubernetes.default.svc.cluster.local'],
        groupsRequired: false,
        userIdClaim: 'email,sub',
      },
      { issuer: 'https://oidc.eks/id/1', audiences: ['sts=x', 'other'], groupsRequired: false, userIdClaim: 'email,sub' },
    ]);
    assert.equal(s['AUDIENCES'], 'kf,second-client', 'only the main issuer takes the client id, and a pair naming it');
    const m = mapped({ skip_jwt_bearer_tokens: true, extra_jwt_issuers: ['https://a.example=b', 'https://c.example=d'] });
    assert.deepEqual(m.warnings, []);
    assert.match(mapped({ skip_jwt_bearer_tokens: true, extra_jwt_issuers: ['no-audience'] }).errors.join(), /"no-audience" is not an issuer=audience pair/);
    assert.match(mapped({ extra_jwt_issuers: ['a=b'] }).warnings.join(), /has no effect without skip_jwt_bearer_tokens/);
  });

  it('set_authorization_header → FORWARD_ID_TOKEN_HEADER=Authorization', () => {
    assert.equal(settings({ set_authorization_header: true })['FORWARD_ID_TOKEN_HEADER'], 'Authorization');
    assert.equal(settings({})['FORWARD_ID_TOKEN_HEADER'], undefined);
  });

  it('set_xauthrequest → HEADER_PRESET=oauth2-proxy; pass_access_token adds the access token header', () => {
    assert.equal(settings({ set_xauthrequest: true })['HEADER_PRESET'], 'oauth2-proxy');
    assert.equal(settings({ set_xauthrequest: true })['FORWARD_ACCESS_TOKEN_HEADER'], undefined);
    assert.equal(settings({ set_xauthrequest: true, pass_access_token: true })['FORWARD_ACCESS_TOKEN_HEADER'], 'X-Auth-Request-Access-Token');
    assert.equal(settings({ pass_access_token: true })['FORWARD_ACCESS_TOKEN_HEADER'], 'X-Forwarded-Access-Token');
  });

  it('scope → OIDC_SCOPES (default "openid email profile"); prompt → OIDC_AUTH_PARAMS', () => {
    assert.equal(settings({})['OIDC_SCOPES'], 'openid email profile');
    assert.equal(settings({ scope: 'profile email groups openid' })['OIDC_SCOPES'], 'profile email groups openid');
    assert.equal(settings({ prompt: 'none' })['OIDC_AUTH_PARAMS'], 'prompt=none');
    assert.match(mapped({ prompt: 'none' }).warnings.join(), /cfg prompt: "none" is sent as is .*login_required/);
    assert.deepEqual(mapped({ prompt: 'login' }).warnings, []);
    assert.equal(settings({ prompt: 'select_account consent' })['OIDC_AUTH_PARAMS'], 'prompt=select_account%20consent');
  });

  it('redirect_url → REDIRECT_URL (default <proxy_prefix>/callback); proxy_prefix → AUTHSERVICE_URL_PREFIX; the endpoints on', () => {
    const s = settings({});
    assert.equal(s['REDIRECT_URL'], '/oauth2/callback');
    assert.equal(s['AUTHSERVICE_URL_PREFIX'], '/oauth2/');
    assert.equal(s['COMPAT_ENDPOINTS'], 'oauth2-proxy');
    assert.equal(settings({ redirect_url: 'https://kf.example.com/oauth2/callback' })['REDIRECT_URL'], 'https://kf.example.com/oauth2/callback');
    const p = settings({ proxy_prefix: '/auth/' });
    assert.equal(p['AUTHSERVICE_URL_PREFIX'], '/auth/');
    assert.equal(p['REDIRECT_URL'], '/auth/callback');
    assert.match(mapped({ relative_redirect_url: true }).warnings.join(), /absolute callback URL.*register that URL with the provider/);
  });

  it('http_address → the judge port (check only: upstreams static://200 or none), or the ingress forwarder for one upstream', () => {
    const d = settings({});
    assert.equal(d['SERVER_HOSTNAME'], '127.0.0.1');
    assert.equal(d['SERVER_PORT'], '4180');
    const kf = settings({ http_address: '0.0.0.0:4180', upstreams: ['static://200'] });
    assert.equal(kf['SERVER_HOSTNAME'], '');
    assert.equal(kf['SERVER_PORT'], '4180');
    assert.equal(settings({ http_address: 'http://[::1]:4181' })['SERVER_HOSTNAME'], '::1');
    const up = settings({ http_address: '0.0.0.0:4180', upstreams: ['http://app.ns.svc:8080/'] });
    assert.equal(up['INGRESS_PORT'], '4180');
    assert.equal(up['INGRESS_UPSTREAM'], 'http://app.ns.svc:8080/');
    assert.equal(up['SERVER_PORT'], undefined);
    assert.match(mapped({ http_address: 'unix:///run/o2p.sock' }).errors.join(), /http_address: .*only \[http:\/\/\]host:port/);
    assert.match(mapped({ upstreams: ['file:///var/www#/'] }).errors.join(), /cfg upstreams: .*only "static:\/\/200"/);
    assert.match(mapped({ upstreams: ['http://a:1', 'http://b:2/b/'] }).errors.join(), /cfg upstreams/);
  });

  it('login_url → OIDC_AUTH_URL; discovery is not skipped and redeem_url / oidc_jwks_url are said to be unused', () => {
    const m = mapped({ skip_oidc_discovery: true, login_url: '/dex/auth', redeem_url: 'http://dex/token', oidc_jwks_url: 'http://dex/keys' });
    assert.equal(m.settings['OIDC_AUTH_URL'], '/dex/auth');
    assert.match(m.warnings.join('\n'), /skip_oidc_discovery: discovery is not skipped/);
    assert.match(m.warnings.join('\n'), /redeem_url: not used/);
    assert.match(m.warnings.join('\n'), /oidc_jwks_url: not used/);
  });

  it('code_challenge_method: S256 only; ssl_insecure_skip_verify=true refused (CA_BUNDLE)', () => {
    assert.deepEqual(mapped({ code_challenge_method: 'S256' }).errors, []);
    assert.match(mapped({ code_challenge_method: 'plain' }).errors.join(), /only "S256"/);
    assert.deepEqual(mapped({ ssl_insecure_skip_verify: false }).errors, []);
    assert.match(mapped({ ssl_insecure_skip_verify: true }).errors.join(), /ssl_insecure_skip_verify: true is refused.*CA_BUNDLE/);
  });

  it('the sign-in page options are accepted with a warning that they change nothing', () => {
    const m = mapped({ skip_provider_button: false, provider_display_name: 'Dex', banner: '-', footer: '-', custom_sign_in_logo: '/x.svg' });
    assert.deepEqual(m.errors, []);
    assert.equal(m.warnings.filter((w) => /no effect; there is no sign-in button page/.test(w)).length, 5);
  });

  it('reads Go durations', () => {
    assert.equal(goDurationSeconds('168h0m0s'), 604800);
    assert.equal(goDurationSeconds('90s'), 90);
    assert.equal(goDurationSeconds('1.5h'), 5400);
    assert.equal(goDurationSeconds('0'), 0);
    assert.equal(goDurationSeconds('1d'), undefined);
    assert.equal(searchPattern('^/a'), '.*(?:^/a).*');
  });
});

describe('the mapped settings, loaded by the ordinary loader', () => {
  it('set_authorization_header, set_xauthrequest, pass_access_token, prompt and extra_jwt_issuers become the config fields', () => {
    const m = mapped({
      set_authorization_header: true,
      set_xauthrequest: true,
      pass_access_token: true,
      prompt: 'select_account consent',
      skip_jwt_bearer_tokens: true,
      extra_jwt_issuers: ['https://a.example=aud-a', 'https://b.example=aud-b', 'https://idp.example.com=kf-cli'],
    });
    assert.deepEqual(m.errors, []);
    const { config } = loadConfig({ env: m.settings, readFile: () => assert.fail('no file is read') });
    assert.equal(config.forwardIdTokenHeader, 'Authorization');
    assert.equal(config.forwardAccessTokenHeader, 'X-Auth-Request-Access-Token');
    assert.deepEqual(config.headerPreset, ['oauth2-proxy']);
    assert.deepEqual(config.oidcAuthParams, [['prompt', 'select_account consent']]);
    assert.deepEqual(config.audiences, ['kf', 'kf-cli']);
    assert.deepEqual(config.jwtIssuers, [
      jwtIssuerEntry({ issuers: ['https://a.example'], audiences: ['aud-a'], groupsRequired: false, userIdClaim: 'email,sub' }),
      jwtIssuerEntry({ issuers: ['https://b.example'], audiences: ['aud-b'], groupsRequired: false, userIdClaim: 'email,sub' }),
    ]);
    assert.equal(config.accessTokenAuthnEnabled, true);
    assert.equal(config.kubernetesAuthnEnabled, false);
    const alone = loadConfig({ env: mapped({ pass_access_token: true }).settings, readFile: () => '' }).config;
    assert.equal(alone.forwardAccessTokenHeader, 'X-Forwarded-Access-Token');
    assert.equal(alone.forwardIdTokenHeader, '');
    assert.deepEqual(alone.headerPreset, []);
  });
});

describe('oauth2-proxy option sources', () => {
  it('flags > OAUTH2_PROXY_* > cfg; list flags repeat and are singular; env lists are comma-separated', () => {
    const file = parseCfg('client_id = "from-file"\nscope = "openid"\nemail_domains = [ "a.example" ]\ncookie_secure = true\n');
    const r = readOptions({
      file: { name: 'o.cfg', entries: file.entries },
      env: {
        OAUTH2_PROXY_CLIENT_ID: 'from-env',
        OAUTH2_PROXY_SCOPE: 'openid email',
        OAUTH2_PROXY_EMAIL_DOMAINS: 'b.example, c.example',
        OAUTH2_PROXY_COOKIE_SECURE: 'false',
      },
      flags: splitFlags(['--client-id=from-flag', '--email-domain', 'd.example', '--email-domain=e.example']).flags,
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.options.client_id, { value: 'from-flag', from: '--client-id' });
    assert.deepEqual(r.options.scope, { value: 'openid email', from: 'OAUTH2_PROXY_SCOPE' });
    assert.deepEqual(r.options.email_domains?.value, ['d.example', 'e.example']);
    assert.deepEqual(r.options.cookie_secure, { value: false, from: 'OAUTH2_PROXY_COOKIE_SECURE' });
    const envOnly = readOptions({ env: { OAUTH2_PROXY_EMAIL_DOMAINS: 'b.example, c.example' }, flags: [] });
    assert.deepEqual(envOnly.options.email_domains?.value, ['b.example', 'c.example']);
  });

  it('bool flags take a value only with "=" (as pflag); other flags take the next argument', () => {
    assert.deepEqual(splitFlags(['--skip-jwt-bearer-tokens', '--cookie-secure=false', '--client-id', 'x']).flags, [
      ['skip-jwt-bearer-tokens', 'true'],
      ['cookie-secure', 'false'],
      ['client-id', 'x'],
    ]);
    assert.deepEqual(splitFlags(['--set-xauthrequest', 'stray']).errors, ['unexpected argument "stray"']);
    assert.deepEqual(splitFlags(['--client-id']).errors, ['--client-id needs a value']);
  });

  it('refuses every unsupported option by name, from every source, in one message', () => {
    const file = parseCfg('whitelist_domains = [ ".example.com" ]\nprovider = "oidc"\n');
    const r = readOptions({
      file: { name: 'o.cfg', entries: file.entries },
      env: { OAUTH2_PROXY_HTPASSWD_FILE: '/x', OTHER: 'y' },
      flags: [['reverse-proxy', 'true']],
    });
    assert.deepEqual(r.errors, [
      'unsupported oauth2-proxy options (refused rather than ignored): whitelist_domains (o.cfg:1), OAUTH2_PROXY_HTPASSWD_FILE, --reverse-proxy',
    ]);
    assert.equal(r.options.provider?.value, 'oidc');
  });

  it("leaves alone the variables Kubernetes injects for the Service named oauth2-proxy (Kubeflow's)", () => {
    const links = {
      OAUTH2_PROXY_SERVICE_HOST: '10.96.0.10',
      OAUTH2_PROXY_SERVICE_PORT: '80',
      OAUTH2_PROXY_SERVICE_PORT_HTTP: '80',
      OAUTH2_PROXY_PORT: 'tcp://10.96.0.10:80',
      OAUTH2_PROXY_PORT_80_TCP: 'tcp://10.96.0.10:80',
      OAUTH2_PROXY_PORT_80_TCP_ADDR: '10.96.0.10',
      OAUTH2_PROXY_PORT_80_TCP_PORT: '80',
      OAUTH2_PROXY_PORT_80_TCP_PROTO: 'tcp',
    };
    assert.deepEqual(readOptions({ env: links, flags: [] }), { options: {}, errors: [] });
    assert.match(readOptions({ env: { OAUTH2_PROXY_PORTAL: 'x' }, flags: [] }).errors.join(), /OAUTH2_PROXY_PORTAL/);
  });

  it('names a value of the wrong type with its source', () => {
    const file = parseCfg('cookie_secure = "yes"\nclient_id = [ "a" ]\nemail_domains = [ 1 ]\n');
    const r = readOptions({ file: { name: 'o.cfg', entries: file.entries }, env: { OAUTH2_PROXY_SET_XAUTHREQUEST: 'maybe' }, flags: [] });
    assert.deepEqual(r.errors, [
      'o.cfg:1 cookie_secure: must be true or false',
      'o.cfg:2 client_id: must be a single value, not a list',
      'o.cfg:3 email_domains: must be a string or a list of strings',
      'OAUTH2_PROXY_SET_XAUTHREQUEST: must be true or false',
    ]);
  });
});

describe("Kubeflow's shipped oauth2_proxy.cfg", () => {
  // The Deployment's arguments and environment (common/oauth2-proxy/base/deployment.yaml and its
  // kustomization's literals), with self-signed issuers off: we refuse to skip TLS verification.
  const argv = ['--http-address=0.0.0.0:4180', `--config=${KUBEFLOW_CFG}`];
  const env = {
    OAUTH2_PROXY_CLIENT_ID: 'kubeflow-oidc-authservice',
    OAUTH2_PROXY_CLIENT_SECRET: 'pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok',
    OAUTH2_PROXY_COOKIE_SECRET: '7d16fee92f8d11b8940b081b3f8b8acb',
    OAUTH2_PROXY_COOKIE_SECURE: 'false',
    OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY: 'false',
    OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS: 'true',
    OAUTH2_PROXY_EXTRA_JWT_ISSUERS: '',
    SESSION_STORE_TYPE: 'redis',
  };
  const readFile = (p: string): string => readFileSync(p, 'utf8');

  it('maps onto settings the loader accepts, with the differences said', () => {
    const r = oauth2ProxyCommand(argv, env, readFile);
    assert.deepEqual(r.errors, []);
    assert.equal(r.env['OIDC_PROVIDER'], 'http://dex.auth.svc.cluster.local:5556/dex');
    assert.equal(r.env['OIDC_AUTH_URL'], '/dex/auth');
    assert.equal(r.env['SESSION_COOKIE_NAME'], 'oauth2_proxy_kubeflow');
    assert.equal(r.env['SESSION_MAX_AGE'], '86400');
    assert.equal(r.env['SERVER_PORT'], '4180');
    assert.equal(r.env['SESSION_STORE_TYPE'], 'redis');
    assert.equal(r.env['OAUTH2_PROXY_CLIENT_ID'], undefined);
    for (const w of ['skip_oidc_discovery', 'redeem_url', 'oidc_jwks_url', 'skip_provider_button', 'OAUTH2_PROXY_COOKIE_SECRET', 'relative_redirect_url']) {
      assert.ok(
        r.warnings.some((x) => x.includes(w)),
        `a warning names ${w}`,
      );
    }
    assert.ok(!r.warnings.join().includes('pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok') && !r.warnings.join().includes('7d16fee92f8d'));
    const { config } = loadConfig({ env: r.env, readFile });
    assert.equal(config.clientId, 'kubeflow-oidc-authservice');
    assert.equal(config.sessionCookieSecure, false);
    assert.deepEqual(config.oidcScopes, ['profile', 'email', 'groups', 'openid']);
    assert.deepEqual(config.apiRoutes, ['.*(?:/api/).*', '.*(?:/apis/).*', '.*(?:^/ml_metadata).*']);
    assert.deepEqual(config.skipRules, [{ path: { regex: '.*(?:^/dex/).*' } }]);
    assert.equal(config.authserviceUrlPrefix, '/oauth2/');
    assert.equal(config.redirectUrl, '/oauth2/callback');
    assert.equal(config.compatEndpoints, 'oauth2-proxy');
    assert.deepEqual(config.audiences, ['kubeflow-oidc-authservice']);
    assert.equal(config.serverPort, 4180);
  });

  it("refuses Kubeflow's default ALLOW_SELF_SIGNED_ISSUER=true by name", () => {
    const r = oauth2ProxyCommand(argv, { ...env, OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY: 'true' }, readFile);
    assert.deepEqual(r.errors, [
      'OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY: true is refused: certificates are always verified; trust a private CA with CA_BUNDLE instead',
    ]);
  });

  it('names an unreadable config file', () => {
    const r = oauth2ProxyCommand(['--config=/nonexistent/o.cfg'], env, readFile);
    assert.match(r.errors.join(), /--config \/nonexistent\/o\.cfg: cannot read \(ENOENT\)/);
  });
});
