/**
 * Misspelt settings are warned about, once each, with the closest setting's name; what Kubernetes
 * injects for Services is never; `SESSION_COOKIE_SAME_SITE` is a name of SESSION_SAME_SITE.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagName, loadConfig } from '../../src/config/load.js';
import { schema } from '../../src/config/schema.js';
import { closest, editDistance, isKubernetesServiceVariable, knownNames, unknownEnvWarnings } from '../../src/config/unknown-env.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>, flags: Record<string, string> = {}) => loadConfig({ env, flags, readFile: noFiles });
const known = knownNames(Object.values(schema));
const unknown = (w: readonly string[]): string[] => w.filter((x) => x.includes('is not a setting'));

describe('unknown settings in the environment', () => {
  it('edit distance counts insertions, deletions, substitutions and neighbour swaps as one', () => {
    assert.equal(editDistance('SESSION_SAME_SITE', 'SESSION_SAME_SITE'), 0);
    assert.equal(editDistance('OIDC_PROVDER', 'OIDC_PROVIDER'), 1);
    assert.equal(editDistance('CLIENT_ID', 'CLEINT_ID'), 1, 'a swap');
    assert.equal(editDistance('REDIRECT_URI', 'REDIRECT_URL'), 1);
    assert.equal(editDistance('', 'ABC'), 3);
  });

  it('suggests the closest setting by its own name (not by an alias or an old name)', () => {
    assert.equal(closest('SESSION_COOKIE_SAMESITE', known).name, 'SESSION_SAME_SITE');
    assert.equal(closest('SKIP_AUTH_URL', known).name, 'SKIP_AUTH_URLS');
    assert.equal(closest('SKIP_AUTH_URIS', known).name, 'SKIP_AUTH_URLS', 'near the old SKIP_AUTH_URI: the current name');
    assert.equal(closest('USERID_HEADR', known).name, 'USERID_HEADER');
    assert.equal(closest('CLIENT_SECRET_FIEL', known).name, 'CLIENT_SECRET_FILE');
  });

  it('warns once per variable that starts like ours or is a letter away from one of ours', () => {
    const w = unknownEnvWarnings(
      {
        SESSION_COOKIE_SAMESITE: 'Strict',
        OIDC_PROVDER: 'https://idp',
        CLIENTID: 'x',
        REDIRECT_URI: 'https://app/cb',
        JWT_ISSUER: 'https://idp',
        SESSION_FOO: '1',
      },
      known,
    );
    assert.deepEqual(w, [
      'CLIENTID is not a setting; did you mean CLIENT_ID?',
      'JWT_ISSUER is not a setting; did you mean JWT_ISSUERS?',
      'OIDC_PROVDER is not a setting; did you mean OIDC_PROVIDER?',
      'REDIRECT_URI is not a setting; did you mean REDIRECT_URL?',
      'SESSION_COOKIE_SAMESITE is not a setting; did you mean SESSION_SAME_SITE?',
      `SESSION_FOO is not a setting; did you mean ${closest('SESSION_FOO', known).name}?`,
    ]);
  });

  it('leaves alone known names, old names, *_FILE of secrets, template context and what is not ours', () => {
    const env = {
      ...base,
      SKIP_AUTH_URI: '/dex',
      CLIENT_SECRET_FILE: '/s',
      TEMPLATE_CONTEXT_ANYTHING: 'x',
      OIDC_PROXY_SOMETHING: 'left to `oidc-judge oidc-proxy`',
      PATH: '/usr/bin',
      HOME: '/home/x',
      HOSTNAME: 'pod-0',
      NODE_VERSION: '24.11.0',
      NODE_ENV: 'production',
      NODE_OPTIONS: '--enable-source-maps',
      GRPC_TRACE: 'all',
      GRPC_VERBOSITY: 'DEBUG',
      lowercase_session_thing: 'x',
      TZ: 'UTC',
    };
    assert.deepEqual(unknownEnvWarnings(env, known), []);
  });

  it('never warns about what Kubernetes injects for Services, ours included', () => {
    const injected = {
      // a Service named oidc-judge, ports named http-judge and grpc-judge
      OIDC_JUDGE_SERVICE_HOST: '10.0.0.7',
      OIDC_JUDGE_SERVICE_PORT: '8080',
      OIDC_JUDGE_SERVICE_PORT_HTTP_JUDGE: '8080',
      OIDC_JUDGE_SERVICE_PORT_GRPC_JUDGE: '9191',
      OIDC_JUDGE_PORT: 'tcp://10.0.0.7:8080',
      OIDC_JUDGE_PORT_8080_TCP: 'tcp://10.0.0.7:8080',
      OIDC_JUDGE_PORT_8080_TCP_PROTO: 'tcp',
      OIDC_JUDGE_PORT_8080_TCP_PORT: '8080',
      OIDC_JUDGE_PORT_8080_TCP_ADDR: '10.0.0.7',
      // a Service named session-store (our SESSION_ prefix), one named auth (AUTH_), and the API server
      SESSION_STORE_SERVICE_HOST: '10.0.0.8',
      SESSION_STORE_PORT: 'tcp://10.0.0.8:6379',
      SESSION_STORE_PORT_6379_TCP_ADDR: '10.0.0.8',
      AUTH_SERVICE_HOST: '10.0.0.9',
      AUTH_PORT: 'tcp://10.0.0.9:80',
      AUTH_PORT_80_UDP: 'udp://10.0.0.9:80',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.0.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.0.0.1:443',
    };
    assert.deepEqual(unknownEnvWarnings(injected, known), []);
    for (const [name, value] of Object.entries(injected)) {
      if (!['KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT'].includes(name)) assert.ok(isKubernetesServiceVariable(name, value, injected), name);
    }
    // …but a setting-like *_PORT that is no Service's is still looked at.
    assert.equal(isKubernetesServiceVariable('SESSION_STORE_PORT', '6379', {}), false);
    assert.deepEqual(unknownEnvWarnings({ SESSION_STORE_PORT: '6379' }, known).length, 1);
  });

  it("loadConfig adds the warnings, and knows the forwarder commands' variables too", () => {
    const { warnings } = load({
      ...base,
      SESSION_COOKIE_SAMESITE: 'Strict',
      LISTEN_PORT: '8080',
      OIDC_PROXY_TARGET_URL: 'http://x',
      FORWARD_DRAIN_SECONDS: '3',
    });
    assert.deepEqual(unknown(warnings), ['SESSION_COOKIE_SAMESITE is not a setting; did you mean SESSION_SAME_SITE?']);
    assert.deepEqual(unknown(load(base).warnings), []);
    assert.ok(!load({ ...base, PORT: '8080' }).warnings.some((w) => w.startsWith('PORT is not a setting')), 'PORT has its own warning');
  });

  it('an unknown flag names the closest one', () => {
    assert.ok(problems(() => load(base, { 'oidc-provdier': 'x' })).includes('--oidc-provdier: unknown flag; did you mean --oidc-provider?'));
    assert.ok(problems(() => load(base, { frobnicate: 'x' })).includes('--frobnicate: unknown flag'));
  });
});

describe('SESSION_COOKIE_SAME_SITE', () => {
  it('is SESSION_SAME_SITE by the SESSION_COOKIE_* name, without a warning', () => {
    const { config, warnings } = load({ ...base, SESSION_COOKIE_SAME_SITE: 'strict' });
    assert.equal(config.sessionSameSite, 'Strict');
    assert.deepEqual(warnings, []);
    assert.equal(load(base, { 'session-cookie-same-site': 'None' }).config.sessionSameSite, 'None');
  });

  it('gives way to SESSION_SAME_SITE, with a warning, and is checked like it', () => {
    const { config, warnings } = load({ ...base, SESSION_SAME_SITE: 'Lax', SESSION_COOKIE_SAME_SITE: 'Strict' });
    assert.equal(config.sessionSameSite, 'Lax');
    assert.ok(warnings.includes('SESSION_COOKIE_SAME_SITE is ignored because SESSION_SAME_SITE is set'));
    assert.ok(problems(() => load({ ...base, SESSION_COOKIE_SAME_SITE: 'sometimes' })).some((p) => p.startsWith('SESSION_COOKIE_SAME_SITE: must be one of')));
    assert.equal(flagName('SESSION_COOKIE_SAME_SITE'), 'session-cookie-same-site');
  });
});
