import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, redacted } from '../../src/config/load.js';
import { pathOf } from '../../src/net/url-path.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>, more: Partial<Parameters<typeof loadConfig>[0]> = {}) => loadConfig({ env, readFile: noFiles, ...more });

describe('configuration', () => {
  it('keeps oidc-authservice defaults and derives URLs from AUTHSERVICE_URL_PREFIX', () => {
    const { config } = load(base);
    assert.equal(config.authserviceUrlPrefix, '/authservice/');
    assert.equal(config.redirectUrl, '/authservice/oidc/callback');
    assert.equal(config.homepageUrl, '/authservice/site/homepage');
    assert.equal(config.afterLogoutUrl, '/authservice/site/after_logout');
    assert.equal(config.verifyAuthUrl, '/authservice/verify');
    assert.equal(config.useridHeader, 'kubeflow-userid');
    assert.equal(config.groupsHeader, 'kubeflow-groups');
    assert.equal(config.authMethodHeader, 'Auth-Method');
    assert.equal(config.authHeader, 'Authorization');
    assert.equal(config.serverPort, 8080);
    assert.equal(config.webServerPort, 8082);
    assert.equal(config.readinessProbePort, 8081);
    assert.equal(config.sessionMaxAge, 86400);
    assert.equal(config.sessionSameSite, 'Lax');
    assert.deepEqual(config.oidcScopes, ['openid', 'email']);
    assert.deepEqual(config.groupsAllowlist, ['*']);
    assert.deepEqual(config.audiences, ['istio-ingressgateway.istio-system.svc.cluster.local']);
    assert.deepEqual(config.authnChain, ['kubernetes', 'access_token', 'session', 'id_token']);
    assert.equal(config.accessTokenAuthn, 'jwt');
    assert.equal(config.cacheExpirationMinutes, 5);
    assert.ok(Object.isFrozen(config));
  });

  it('derives from an absolute prefix and lets explicit URLs win', () => {
    const { config } = load({ ...base, AUTHSERVICE_URL_PREFIX: 'https://app.example.com/auth', REDIRECT_URL: 'https://app.example.com/cb' });
    assert.equal(config.verifyAuthUrl, 'https://app.example.com/auth/verify');
    assert.equal(config.redirectUrl, 'https://app.example.com/cb');
    assert.equal(pathOf(config.verifyAuthUrl), '/auth/verify');
  });

  it('reports every problem at once, naming the variable', () => {
    const p = problems(() =>
      load({ SESSION_MAX_AGE: 'forever', STRICT_SESSION_VALIDATION: 'maybe', SERVER_PORT: '70000', ACCESS_TOKEN_AUTHN: 'JWT', LOG_LEVEL: 'loud' }),
    );
    const text = p.join('\n');
    for (const name of [
      'OIDC_PROVIDER',
      'CLIENT_ID',
      'CLIENT_SECRET',
      'SESSION_MAX_AGE',
      'STRICT_SESSION_VALIDATION',
      'SERVER_PORT',
      'ACCESS_TOKEN_AUTHN',
      'LOG_LEVEL',
    ]) {
      assert.match(text, new RegExp(`^${name}(_FILE)?\\b`, 'm'), `${name} missing from:\n${text}`);
    }
    assert.equal(p.length, 8);
  });

  it('accepts Go-style and friendly booleans', () => {
    for (const [raw, want] of [
      ['true', true],
      ['1', true],
      ['T', true],
      ['on', true],
      ['false', false],
      ['0', false],
      ['F', false],
    ] as const) {
      assert.equal(load({ ...base, STRICT_SESSION_VALIDATION: raw }).config.strictSessionValidation, want, raw);
    }
  });

  it('accepts legacy names with a warning, and ignores them when the new name is set', () => {
    const a = load({ ...base, SKIP_AUTH_URI: '/dex /static', STORE_PATH: '/data/old.db', STATIC_DESTINATION_URL: '/bye' });
    assert.deepEqual(a.config.skipAuthUrls, ['/dex', '/static']);
    assert.equal(a.config.sessionStorePath, '/data/old.db');
    assert.equal(a.config.afterLogoutUrl, '/bye');
    assert.equal(a.warnings.filter((w) => /deprecated/.test(w)).length, 3);
    const b = load({ ...base, SKIP_AUTH_URI: '/old', SKIP_AUTH_URLS: '/new' });
    assert.deepEqual(b.config.skipAuthUrls, ['/new']);
    assert.ok(b.warnings.some((w) => w.includes('SKIP_AUTH_URI is ignored')));
    assert.ok(load({ ...base, PORT: '8080' }).warnings.some((w) => w.includes('PORT is ignored')));
  });

  it('takes space-separated scopes and always requests openid', () => {
    assert.deepEqual(load({ ...base, OIDC_SCOPES: 'profile email groups' }).config.oidcScopes, ['openid', 'profile', 'email', 'groups']);
    assert.deepEqual(load({ ...base, OIDC_SCOPES: 'openid,email' }).config.oidcScopes, ['openid', 'email']);
  });

  it('reads secrets from *_FILE, refuses both forms, and names unreadable files', () => {
    const files: Record<string, string> = { '/run/secret': 'from-file\n' };
    const readFile = (p: string): string => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return v;
    };
    const env = { OIDC_PROVIDER: base.OIDC_PROVIDER, CLIENT_ID: 'judge', CLIENT_SECRET_FILE: '/run/secret' };
    assert.equal(loadConfig({ env, readFile }).config.clientSecret, 'from-file');
    assert.match(problems(() => loadConfig({ env: { ...env, CLIENT_SECRET: 'x' }, readFile })).join(), /CLIENT_SECRET_FILE: set together with CLIENT_SECRET/);
    assert.match(
      problems(() => loadConfig({ env: { ...env, CLIENT_SECRET_FILE: '/missing' }, readFile })).join(),
      /CLIENT_SECRET_FILE: cannot read \/missing \(ENOENT\)/,
    );
  });

  it('layers file < environment < flags, and rejects unknown settings and flags', () => {
    const yaml = `
OIDC_PROVIDER: https://file.example.com
clientId: from-file
serverPort: 9000
skipRules:
  - /healthz
  - { host: "*.example.com", methods: [get], path: { regex: "^/static/[a-z]+\\\\.js$" } }
  - { preflight: true }
authzRules:
  - match: { path: { prefix: /admin } }
    allow: { groups: [admins] }
  - match: { path: { prefix: /API }, caseSensitive: true }
    allow: { groups: [admins] }
templateContext: { LOGO: /logo.svg }
`;
    const readFile = (p: string): string => (p === 'judge.yaml' ? yaml : noFiles(p));
    const { config } = loadConfig({
      env: { CLIENT_ID: 'from-env', CLIENT_SECRET: 'x', TEMPLATE_CONTEXT_TITLE: 'Hi' },
      flags: { 'server-port': '9100' },
      configFile: 'judge.yaml',
      readFile,
    });
    assert.equal(config.oidcProvider, 'https://file.example.com');
    assert.equal(config.clientId, 'from-env');
    assert.equal(config.serverPort, 9100);
    assert.equal(config.skipRules.length, 3);
    assert.deepEqual(config.skipRules[1], { host: '*.example.com', methods: ['GET'], path: { regex: '^/static/[a-z]+\\.js$' } });
    assert.deepEqual(config.authzRules[0], { match: { path: { prefix: '/admin' } }, allow: { groups: ['admins'] } });
    assert.deepEqual(config.authzRules[1], { match: { path: { prefix: '/API' }, caseSensitive: true }, allow: { groups: ['admins'] } });
    assert.deepEqual(config.templateContext, { LOGO: '/logo.svg', TITLE: 'Hi' });

    const bad = `colour: blue\nAUTHSERVICE_URL_PREFIX: https://x.example.com/\nskipRules:\n  - { path: { regex: "(" } }\n  - { path: "relative" }\nauthzRules:\n  - match: {}\n    allow: {}\n  - match: { caseSensitive: yes please }\n    allow: { authenticated: true }\n`;
    const p = problems(() => loadConfig({ env: base, flags: { 'no-such-flag': '1' }, configFile: 'bad.yaml', readFile: () => bad }));
    const text = p.join('\n');
    assert.match(text, /unknown setting "colour"/);
    assert.match(text, /skipRules.*invalid regular expression/);
    assert.match(text, /must start with "\/"/);
    assert.match(text, /allow: names nobody/);
    assert.match(text, /authzRules: .*\[1\]\.match\.caseSensitive: must be true or false/);
    assert.match(text, /--no-such-flag: unknown flag/);
    assert.match(text, /AUTHSERVICE_URL_PREFIX: its path must not be "\/"/);
    const empty = problems(() => load({ ...base, AUTHZ_RULES: '[{"match":{},"allow":{"groups":[],"claims":{}}}]' })).join('\n');
    assert.match(empty, /allow\.groups: must be a non-empty list/);
    assert.match(empty, /allow\.claims: must map claim names/);
  });

  it('validates structured variables given as JSON', () => {
    const ok = load({ ...base, USERID_TRANSFORMERS: '[{"matches":"^(.*)@x\\\\.com$","replaces":"$1"}]', CLAIM_HEADERS: 'email:x-user-email,name:X-User-Name' });
    assert.deepEqual(ok.config.useridTransformers, [{ matches: '^(.*)@x\\.com$', replaces: '$1' }]);
    assert.deepEqual(ok.config.claimHeaders, { 'x-user-email': 'email', 'x-user-name': 'name' });
    const text = problems(() =>
      load({ ...base, USERID_TRANSFORMERS: '[{"matches":"("}]', AUTHZ_RULES: '{not json', TRUSTED_PROXIES: '10.0.0.0/8,banana,10.0.0.0/40' }),
    ).join('\n');
    assert.match(text, /^USERID_TRANSFORMERS: /m);
    assert.match(text, /^AUTHZ_RULES: must be JSON/m);
    assert.match(text, /^TRUSTED_PROXIES: .*banana/m);
    assert.match(text, /^TRUSTED_PROXIES: .*10.0.0.0\/40/m);
  });

  it('never accepts "none" or HMAC algorithms, and checks the chain', () => {
    const text = problems(() => load({ ...base, JWT_ALGORITHMS: 'RS256,HS256,none', AUTHN_CHAIN: 'session,session,magic' })).join('\n');
    assert.match(text, /HS256 is never accepted/);
    assert.match(text, /none is never accepted/);
    assert.match(text, /unknown authenticator "magic"/);
    assert.match(text, /lists an authenticator twice/);
  });

  it('slow-client limits: 10 s / 30 s by default; a head limit above the request limit is refused', () => {
    const { config } = load(base);
    assert.deepEqual([config.httpHeadersTimeout, config.httpRequestTimeout], [10, 30]);
    assert.deepEqual(
      problems(() => load({ ...base, HTTP_HEADERS_TIMEOUT: '40' })),
      ['HTTP_HEADERS_TIMEOUT: must not exceed HTTP_REQUEST_TIMEOUT (30 s), which bounds the head too'],
    );
    assert.match(problems(() => load({ ...base, HTTP_HEADERS_TIMEOUT: '0' })).join(), /HTTP_HEADERS_TIMEOUT/);
    assert.equal(load({ ...base, HTTP_HEADERS_TIMEOUT: '40', HTTP_REQUEST_TIMEOUT: '40' }).config.httpHeadersTimeout, 40);
  });

  it('treats boltdb as the embedded store, with a warning', () => {
    const { config, warnings } = load({ ...base, SESSION_STORE_TYPE: 'boltdb' });
    assert.equal(config.sessionStoreType, 'sqlite');
    assert.ok(warnings.some((w) => w.includes('boltdb')));
  });

  it('redacts secrets for check-config and logs', () => {
    const { config } = load({ ...base, SESSION_STORE_REDIS_PWD: 'redis-pass' });
    const out = JSON.stringify(redacted(config));
    assert.ok(!out.includes('s3cr3t-value') && !out.includes('redis-pass'));
    assert.match(out, /"clientSecret":"\[redacted\]"/);
  });
});

describe('authzRules: programs', () => {
  it('reads `programs` as true or false, and a rule allowing nobody but naming programs names nobody', () => {
    const { config } = load({ ...base, AUTHZ_RULES: '[{"match":{"path":{"prefix":"/admin"}},"allow":{"groups":["admins"],"programs":false}}]' });
    assert.deepEqual(config.authzRules[0]?.allow, { groups: ['admins'], programs: false });
    const text = problems(() =>
      load({ ...base, AUTHZ_RULES: '[{"match":{},"allow":{"programs":false}},{"match":{},"allow":{"authenticated":true,"programs":"no"}}]' }),
    ).join('\n');
    assert.match(text, /\[0\]\.allow: names nobody/);
    assert.match(text, /\[1\]\.allow\.programs: must be true or false/);
  });
});
