/** `providers:` in the config file: each entry checked like the settings it stands for; collisions and ambiguity refused at start-up. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, redacted } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (yaml: string, files: Record<string, string> = {}) =>
  loadConfig({
    env: base,
    configFile: 'c.yaml',
    readFile: (p) => (p === 'c.yaml' ? yaml : (files[p] ?? noFiles(p))),
  }).config;

const entry = (more = '') => `
  - id: partner
    issuer: https://partner.example.com
    clientId: judge-partner
    clientSecret: partner-secret
    hosts: [partner.example.com, "*.partner.example.com"]${more}`;

describe('providers: in the config file', () => {
  it('reads an entry, its secret from a file, and keeps the environment as the provider default', () => {
    const c = load(
      `providers:
  - id: partner
    issuer: https://partner.example.com
    clientId: judge-partner
    clientSecretFile: /run/secret
    scopes: [email]
    authParams: { prompt: select_account }
    userIdClaim: sub
    cookieName: partner_session
    clientName: Partner
    theme: partner
    groupsAllowlist: [staff]
    hosts: [Partner.Example.com.]
    paths: [/app/]
`,
      { '/run/secret': 's3cret\n' },
    );
    assert.equal(c.oidcProvider, base.OIDC_PROVIDER);
    const [p] = c.providers;
    assert.equal(p?.clientSecret, 's3cret');
    assert.deepEqual(p?.scopes, ['openid', 'email']);
    assert.deepEqual(p?.authParams, [['prompt', 'select_account']]);
    assert.deepEqual(p?.hosts, ['partner.example.com']);
    assert.deepEqual(p?.paths, ['/app']);
    assert.deepEqual(p?.groupsAllowlist, ['staff']);
    assert.equal((redacted(c)['providers'] as { clientSecret: string }[])[0]?.clientSecret, '[redacted]');
  });

  it('takes explicit endpoints instead of discovery (OIDC_ENDPOINTS, a provider’s endpoints), the three needed ones required', () => {
    const env = {
      ...base,
      OIDC_ENDPOINTS: JSON.stringify({ authorization_endpoint: 'https://i.example/a', token_endpoint: 'https://i.example/t', jwks_uri: 'https://i.example/k' }),
    };
    assert.equal(loadConfig({ env, readFile: noFiles }).config.oidcEndpoints['jwks_uri'], 'https://i.example/k');
    const p = problems(() =>
      load(`providers:${entry('\n    endpoints: { authorization_endpoint: https://p.example/a, token_endpoint: "ftp://x", colour: https://x }')}`),
    );
    const text = p.join('\n');
    assert.match(text, /providers\[0\]\.endpoints\.colour: unknown endpoint/);
    assert.match(text, /providers\[0\]\.endpoints\.token_endpoint: must be an http\(s\) URL/);
    assert.match(text, /providers\[0\]\.endpoints\.jwks_uri: is required/);
  });

  it('needs nothing new from existing deployments', () => {
    assert.deepEqual(loadConfig({ env: base, readFile: noFiles }).config.providers, []);
  });

  it('refuses bad entries, naming the option', () => {
    const p = problems(() =>
      load(`providers:
  - id: default
    issuer: not a url
    clientId: x
    clientSecret: y
    colour: blue
    hosts: ["bad host"]
  - id: nowhere
    issuer: https://x.example.com
    clientId: x
`),
    );
    const text = p.join('\n');
    assert.match(text, /providers\[0\]\.id: "default" is the provider of the environment/);
    assert.match(text, /providers\[0\]\.issuer:/);
    assert.match(text, /providers\[0\]\.colour: unknown option/);
    assert.match(text, /providers\[0\]\.hosts: "bad host"/);
    assert.match(text, /providers\[1\]: give one of clientSecret and clientSecretFile/);
    assert.match(text, /providers\[1\]: says nowhere it applies/);
  });

  it('refuses two providers sharing a session cookie, or an id', () => {
    const cookie = problems(() => load(`providers:${entry('\n    cookieName: authservice_session')}`));
    assert.match(cookie.join('\n'), /"partner" and "default" would share the session cookie authservice_session/);
    const twice = problems(() => load(`providers:${entry()}${entry().replace('partner.example.com, ', 'p2.example.com, ')}`));
    assert.match(twice.join('\n'), /providers\[1\]\.id: "partner" is used twice/);
  });

  it('refuses places no request could choose between', () => {
    const p = problems(() =>
      load(`providers:${entry()}
  - id: docs
    issuer: https://docs.example.com
    clientId: judge-docs
    clientSecret: docs-secret
    paths: [/docs]
`),
    );
    assert.match(p.join('\n'), /neither is more specific in host and path/);
  });

  it('takes access rules naming a provider, and refuses one naming no provider', () => {
    const rules = `
authzRules:
  - provider: partner
    match: { path: { prefix: / } }
    allow: { groups: [staff] }
  - provider: nobody
    match: { path: { prefix: / } }
    allow: { authenticated: true }
`;
    const p = problems(() => load(`providers:${entry()}${rules}`));
    assert.deepEqual(p, ['c.yaml: authzRules[1].provider: no provider "nobody" (known: default, partner)']);
    const ok = load(`providers:${entry()}${rules.split('  - provider: nobody')[0]}`);
    assert.equal(ok.authzRules[0]?.provider, 'partner');
  });
});
