/**
 * oidc-proxy compatibility: every option as `--flag` and as `OIDC_PROXY_*` (flags win), mapped to a
 * `verify` or `egress` block; its defects fixed (both directions → error, audience optional for
 * static egress, HMAC key encoding explicit, explicit default bind warning, errors naming the flag
 * or variable); and the forward command starting a working verifier from oidc-proxy env and from a
 * config file, or refusing with every problem listed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../../../src/config/error.js';
import { runForwardCommand, type ForwardHandle } from '../../../../src/forward/runtime/forward-command.js';
import { parseForwarderBlocks } from '../../../../src/forward/runtime/blocks.js';
import { envName, oidcProxyBlocks } from '../../../../src/forward/runtime/compat/oidc-proxy.js';
import { egressMode } from '../../../../src/forward/egress/mode.js';
import type { ModeDefinition } from '../../../../src/forward/engine/mode.js';
import { silentLogger } from '../../../../src/obs/log.js';
import { send } from '../../../helpers/http-send.js';
import { startUpstream } from '../../../helpers/upstream.js';
import { MODES } from '../../verify/harness.js';

const T = { 'target-url': 'http://127.0.0.1:9000' };

describe('oidc-proxy options', () => {
  it('names env vars OIDC_PROXY_<FLAG_UPPER_SNAKE> and lets flags win over env', () => {
    assert.equal(envName('ingress-jwks-url'), 'OIDC_PROXY_INGRESS_JWKS_URL');
    const r = oidcProxyBlocks(
      { 'ingress-enabled': 'true', audience: 'from-flag', address: '0.0.0.0' },
      { OIDC_PROXY_TARGET_URL: 'http://up:1/base', OIDC_PROXY_AUDIENCE: 'from-env', OIDC_PROXY_INGRESS_JWKS_URL: 'https://idp/jwks', OIDC_PROXY_PORT: '9999' },
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.blocks, [
      {
        name: 'oidc-proxy',
        listen: '0.0.0.0:9999',
        upstream: 'http://up:1/base',
        mode: 'verify',
        keys: { source: 'jwks', url: 'https://idp/jwks' },
        audience: ['from-flag'],
        passThroughToken: false,
      },
    ]);
  });

  it('maps each ingress key source, claims, TLS listen and insecure targets', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----';
    const v = (extra: Record<string, string>) =>
      oidcProxyBlocks({ ...T, address: '127.0.0.1', 'ingress-enabled': 'true', audience: '["a","b"]', ...extra }, {});
    assert.deepEqual(v({ 'ingress-validating-key': pem }).blocks[0]?.['keys'], { source: 'public-key', pem });
    assert.deepEqual(v({ 'ingress-validating-key': 'c2VjcmV0', 'ingress-validating-key-encoding': 'base64' }).blocks[0]?.['keys'], {
      source: 'hmac',
      secret: 'c2VjcmV0',
      encoding: 'base64',
    });
    assert.deepEqual(v({ 'ingress-static-token': 'tok' }).blocks[0]?.['keys'], { source: 'static-token', token: 'tok' });
    const full = v({
      'ingress-jwks-url': 'https://idp/jwks',
      'ingress-valid-claims': '{"sub": "svc-.*"}',
      'tls-listen-enabled': 'true',
      'tls-cert': '/c',
      'tls-key': '/k',
      'tls-allow-insecure-target': 'true',
      'ingress-pass-through-token': 'true',
    });
    assert.deepEqual(full.errors, []);
    assert.deepEqual(full.blocks[0], {
      name: 'oidc-proxy',
      listen: '127.0.0.1:8080',
      upstream: 'http://127.0.0.1:9000',
      tls: { certFile: '/c', keyFile: '/k' },
      upstreamTls: { insecureSkipVerify: true },
      mode: 'verify',
      keys: { source: 'jwks', url: 'https://idp/jwks' },
      audience: ['a', 'b'],
      claims: '{"sub": "svc-.*"}',
      passThroughToken: true,
    });
    const two = v({ 'ingress-jwks-url': 'https://idp/jwks', 'ingress-static-token': 'x' });
    assert.deepEqual(two.blocks[0]?.['keys'], { source: 'jwks', url: 'https://idp/jwks' });
    assert.match(two.warnings.join(), /only --ingress-jwks-url is used/);
  });

  it('maps egress static (audience optional), manual (RS, HS with explicit encoding) and gcp', () => {
    const e = (extra: Record<string, string>, env: Record<string, string> = {}) =>
      oidcProxyBlocks({ ...T, address: '0.0.0.0', 'egress-enabled': 'true', ...extra }, env);
    assert.deepEqual(e({ 'egress-auth-type': 'static', 'egress-auth-static-token': 'tok' }).blocks[0]?.['token'], { source: 'static', token: 'tok' });
    const rs = e({
      'egress-auth-type': 'MANUAL',
      'egress-auth-manual-issuer': 'i',
      'egress-auth-manual-subject': 's',
      'egress-auth-manual-signing-method': 'rs256',
      'egress-auth-manual-signing-key': '/keys/k.pem',
      audience: 'https://svc',
      'egress-auth-manual-claims': 'team: a\nlevel: 2',
    });
    assert.deepEqual(rs.errors, []);
    assert.deepEqual(rs.blocks[0]?.['token'], {
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'https://svc',
      algorithm: 'RS256',
      keyFile: '/keys/k.pem',
      claims: { team: 'a', level: 2 },
      ttlSeconds: 3600,
    });
    const hs = e(
      {
        'egress-auth-type': 'manual',
        'egress-auth-manual-issuer': 'i',
        'egress-auth-manual-subject': 's',
        'egress-auth-manual-signing-method': 'HS256',
        'egress-auth-manual-signing-key': 'raw-secret',
        audience: 'https://svc',
      },
      { OIDC_PROXY_EGRESS_AUTH_MANUAL_SIGNING_KEY_ENCODING: 'raw' },
    );
    assert.deepEqual(hs.blocks[0]?.['token'], {
      source: 'self-signed',
      issuer: 'i',
      subject: 's',
      audience: 'https://svc',
      algorithm: 'HS256',
      secret: 'raw-secret',
      secretEncoding: 'raw',
      ttlSeconds: 3600,
    });
    assert.deepEqual(e({ 'egress-auth-type': 'gcp', audience: 'https://svc' }).blocks[0]?.['token'], {
      source: 'gcp',
      serviceAccount: 'default',
      audience: 'https://svc',
    });
    assert.equal(e({ 'egress-auth-type': 'gcp', audience: 'https://svc' }).blocks[0]?.['mode'], 'egress');
  });

  it('reports every problem naming the flag or the env var', () => {
    const r = oidcProxyBlocks(
      { 'ingress-enabled': 'yes', 'egress-enabled': 'maybe', port: '70000', typo: 'x', 'tls-listen-enabled': 'true', 'tls-cert': '/c' },
      { OIDC_PROXY_AUDIENCE: '[1, 2]', OIDC_PROXY_UNKNOWN: 'z' },
    );
    assert.deepEqual(r.blocks, []);
    assert.deepEqual(r.errors, [
      '--typo: unknown option',
      '--target-url / OIDC_PROXY_TARGET_URL: required in every mode',
      '--port: must be a port number',
      'OIDC_PROXY_AUDIENCE: must be a string or a JSON/YAML list of strings',
      '--egress-enabled: must be true or false',
      '--tls-key / OIDC_PROXY_TLS_KEY: required with TLS listen enabled',
      'ingress needs one of --ingress-jwks-url / OIDC_PROXY_INGRESS_JWKS_URL, --ingress-validating-key / OIDC_PROXY_INGRESS_VALIDATING_KEY, --ingress-static-token / OIDC_PROXY_INGRESS_STATIC_TOKEN',
    ]);
    assert.equal(r.warnings[0], 'OIDC_PROXY_UNKNOWN: not an oidc-proxy option; ignored');
  });

  it('refuses both directions, no direction, a guessed HMAC encoding, reserved and non-scalar manual claims, several egress audiences', () => {
    assert.match(oidcProxyBlocks({ ...T, 'ingress-enabled': 'true', 'egress-enabled': 'true' }, {}).errors.join(), /choose one direction/);
    assert.match(oidcProxyBlocks(T, {}).errors.join(), /no direction: set --ingress-enabled/);
    const hmac = oidcProxyBlocks({ ...T, 'ingress-enabled': 'true', audience: 'a', 'ingress-validating-key': 'c2VjcmV0' }, {});
    assert.deepEqual(hmac.errors, [
      '--ingress-validating-key-encoding / OIDC_PROXY_INGRESS_VALIDATING_KEY_ENCODING: required for an HMAC validating key (oidc-proxy guessed; say which)',
    ]);
    const manual = oidcProxyBlocks(
      {
        ...T,
        'egress-enabled': '1',
        'egress-auth-type': 'manual',
        'egress-auth-manual-issuer': 'i',
        'egress-auth-manual-subject': 's',
        'egress-auth-manual-signing-method': 'PS256',
        'egress-auth-manual-signing-key': 'k',
        audience: '- a\n- b',
        'egress-auth-manual-claims': '{"iss": "x", "nested": {"a": 1}}',
      },
      {},
    );
    assert.deepEqual(manual.errors, [
      '--egress-auth-manual-signing-method: must be one of RS256, RS384, RS512, ES256, HS256, HS384, HS512',
      '--egress-auth-manual-claims: "iss" is set by the proxy and cannot be given here',
      '--egress-auth-manual-claims: "nested" must be a string, number, boolean or null',
      '--audience: egress takes exactly one audience',
    ]);
    assert.match(
      oidcProxyBlocks({ ...T, 'ingress-enabled': 'true', 'ingress-jwks-url': 'https://idp/jwks' }, {}).errors.join(),
      /--audience \/ OIDC_PROXY_AUDIENCE: required for ingress/,
    );
  });

  it('produces egress blocks the egress mode accepts as they are', () => {
    const modes = new Map<string, ModeDefinition<unknown>>([['egress', egressMode as ModeDefinition<unknown>]]);
    const E = { ...T, address: '0.0.0.0', 'egress-enabled': 'true' };
    for (const flags of [
      { ...E, 'egress-auth-type': 'static', 'egress-auth-static-token': 'tok', 'tls-allow-insecure-target': 'true' },
      { ...E, 'egress-auth-type': 'gcp', audience: 'https://svc', 'egress-auth-gcp-service-account': 'sa@p.iam.gserviceaccount.com' },
      {
        ...E,
        'egress-auth-type': 'manual',
        'egress-auth-manual-issuer': 'i',
        'egress-auth-manual-subject': 's',
        'egress-auth-manual-signing-method': 'HS384',
        'egress-auth-manual-signing-key': Buffer.alloc(48, 7).toString('base64'),
        'egress-auth-manual-signing-key-encoding': 'base64',
        audience: 'https://svc',
        'egress-auth-manual-claims': '{"team": "a"}',
      },
      {
        ...E,
        'egress-auth-type': 'manual',
        'egress-auth-manual-issuer': 'i',
        'egress-auth-manual-subject': 's',
        'egress-auth-manual-signing-method': 'RS256',
        'egress-auth-manual-signing-key': '/keys/k.pem',
        audience: 'https://svc',
      },
    ]) {
      const c = oidcProxyBlocks(flags, {});
      assert.deepEqual(c.errors, []);
      const parsed = parseForwarderBlocks(c.blocks, modes, 'oidc-proxy');
      assert.deepEqual(parsed.errors, [], flags['egress-auth-type']);
      assert.equal(parsed.blocks[0]?.mode, 'egress');
    }
  });

  it('warns about the loopback default bind', () => {
    const r = oidcProxyBlocks({ ...T, 'egress-enabled': 'true', 'egress-auth-type': 'static', 'egress-auth-static-token': 't' }, {});
    assert.equal(r.blocks[0]?.['listen'], '127.0.0.1:8080');
    assert.match(r.warnings.join(), /listening on 127\.0\.0\.1:8080 .*set --address \/ OIDC_PROXY_ADDRESS to 0\.0\.0\.0 in a container/);
  });
});

describe('forward command', () => {
  const handles: ForwardHandle[] = [];
  after(() => Promise.all(handles.map((h) => h.forwarders.stop(0))));
  const input = { readFile: (p: string) => readFileSync(p, 'utf8'), log: silentLogger };

  it('runs an oidc-proxy ingress from its env vars (oidc-proxy command)', async () => {
    const upstream = await startUpstream();
    after(() => upstream.close());
    const h = await runForwardCommand(
      {
        ...input,
        oidcProxy: true,
        flags: { port: '0' },
        env: { OIDC_PROXY_TARGET_URL: upstream.url, OIDC_PROXY_INGRESS_ENABLED: 'true', OIDC_PROXY_INGRESS_STATIC_TOKEN: 'tok' },
      },
      MODES,
    );
    handles.push(h);
    const port = h.forwarders.listeners[0]!.port;
    assert.equal((await send(port, '/', { headers: { authorization: 'Bearer tok' } })).status, 200);
    assert.equal((await send(port, '/')).status, 401);
    assert.equal(h.drainMs, 10_000);
  });

  it('runs the blocks of a config file, with a health listener and drain time from flags and env', async () => {
    const upstream = await startUpstream();
    after(() => upstream.close());
    const dir = mkdtempSync(join(tmpdir(), 'fwcmd-'));
    const file = join(dir, 'f.yaml');
    writeFileSync(
      file,
      `logLevel: INFO\nforwardDrainSeconds: 3\nforwarders:\n  - name: a\n    mode: verify\n    listen: 127.0.0.1:0\n    upstream: ${upstream.url}\n    keys: { source: static-token, token: file-token }\n`,
    );
    const h = await runForwardCommand({ ...input, configFile: file, flags: { 'health-listen': '127.0.0.1:0' }, env: { FORWARD_DRAIN_SECONDS: '2' } }, MODES);
    handles.push(h);
    assert.equal(h.drainMs, 2000);
    assert.equal((await send(h.forwarders.listeners[0]!.port, '/', { headers: { authorization: 'Bearer file-token' } })).status, 200);
    assert.equal((await send(h.forwarders.healthPort!, '/readyz')).status, 200);
  });

  it('refuses with every problem at once, and with nothing to run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwcmd-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'forwarders:\n  - mode: verify\n    listen: nowhere\n');
    const err = await runForwardCommand({ ...input, configFile: file, flags: { 'drain-seconds': 'x', bogus: '1' }, env: {} }, MODES).catch((e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [
      'forwarders[0].listen: must be host:port, :port, [ipv6]:port or unix:/path',
      'forwarders[0].upstream: is required',
      'forwarders[0].keys: is required',
      '--bogus: unknown option',
      '--drain-seconds: must be a number of seconds between 0 and 3600',
    ]);
    const none = await runForwardCommand({ ...input, flags: {}, env: {} }, MODES).catch((e: unknown) => e);
    assert.ok(none instanceof ConfigError);
    assert.match(none.message, /nothing to run/);
  });
});
