/**
 * The forwarder commands end to end over real sockets: the mode registry, kube-oidc-gateway's env
 * (`metadata-gateway` in front of the Kubernetes API double), oidc-proxy's env (`oidc-proxy` as a
 * static-token verifier in front of a real upstream), and the refusals that name what is wrong.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/error.js';
import { FORWARDER_MODES, isForwardCommand, runForwarderCommand } from '../../../src/forward/runtime/commands.js';
import { silentLogger } from '../../../src/obs/log.js';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';

const base = { log: silentLogger, readFile: (p: string) => readFileSync(p, 'utf8') };

describe('forwarder commands', () => {
  let api: KubeApi;
  let upstream: Server;
  let upstreamUrl: string;
  before(async () => {
    api = await startKubeApi();
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url} auth=${req.headers.authorization ?? 'none'}`));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  after(async () => {
    await api.close();
    await new Promise((r) => upstream.close(r));
  });

  it('registers the four modes and knows the four commands', () => {
    assert.deepEqual([...FORWARDER_MODES.keys()].sort(), ['egress', 'kube', 'metadata', 'verify']);
    for (const c of ['forward', 'oidc-proxy', 'kube-oidc-proxy', 'metadata-gateway']) assert.equal(isForwardCommand(c), true, c);
    assert.equal(isForwardCommand('serve'), false);
  });

  it('metadata-gateway serves the API server discovery document from kube-oidc-gateway env', async () => {
    const port = await freePort();
    const env = {
      LISTEN_ADDR: '127.0.0.1',
      LISTEN_PORT: String(port),
      UPSTREAM_HOST: api.url,
      SA_TOKEN_PATH: `${api.serviceAccountDir}/token`,
      SA_CA_CERT_PATH: api.caFile,
    };
    const h = await runForwarderCommand('metadata-gateway', { ...base, flags: {}, env });
    try {
      const r = await send(port, '/.well-known/openid-configuration');
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { issuer: string }).issuer, api.issuer);
      assert.match(String(r.headers['etag']), /^"/);
      assert.equal((await send(port, '/other')).status, 404);
    } finally {
      await h.stop();
    }
  });

  it('oidc-proxy runs a static-token verifier from OIDC_PROXY_* env; its /metrics names the build', async () => {
    const port = await freePort();
    const health = await freePort();
    const env = {
      OIDC_PROXY_TARGET_URL: upstreamUrl,
      OIDC_PROXY_ADDRESS: '127.0.0.1',
      OIDC_PROXY_PORT: String(port),
      OIDC_PROXY_INGRESS_ENABLED: 'true',
      OIDC_PROXY_INGRESS_STATIC_TOKEN: 'let-me-in-0123456789',
      FORWARD_HEALTH_LISTEN: `127.0.0.1:${health}`,
    };
    const h = await runForwarderCommand('oidc-proxy', { ...base, flags: {}, env, build: { version: '9.8.7', node: 'v24.0.0' } });
    try {
      const denied = await send(port, '/x');
      assert.equal(denied.status, 401);
      assert.match(String(denied.headers['www-authenticate']), /^Bearer/);
      const ok = await send(port, '/x?y=1', { headers: { authorization: 'Bearer let-me-in-0123456789' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, 'upstream saw /x?y=1 auth=none');
      assert.match((await send(health, '/metrics')).body, /^oidc_judge_build_info\{version="9\.8\.7",node="v24\.0\.0"\} 1$/m);
    } finally {
      await h.stop();
    }
  });

  it('refuses options a command does not take, naming them', async () => {
    await assert.rejects(
      runForwarderCommand('metadata-gateway', { ...base, flags: { 'listen-port': '1' }, env: {} }),
      (e: unknown) => e instanceof ConfigError && /--listen-port/.test(e.message),
    );
    await assert.rejects(
      runForwarderCommand('kube-oidc-proxy', { ...base, flags: {}, env: {}, configFile: 'x.yaml' }),
      (e: unknown) => e instanceof ConfigError && /--config/.test(e.message),
    );
    await assert.rejects(
      runForwarderCommand('kube-oidc-proxy', { ...base, flags: { 'no-such-flag': 'true' }, env: {} }),
      (e: unknown) => e instanceof ConfigError && /--no-such-flag/.test(e.message),
    );
  });

  it('serve reads a config file that also holds forwarders', () => {
    const yaml =
      'OIDC_PROVIDER: https://idp.example.com\nCLIENT_ID: c\nCLIENT_SECRET: s\nforwarders:\n  - { mode: verify, listen: ":9000" }\nforwardDrainSeconds: 5\n';
    const { config } = loadConfig({ env: {}, flags: {}, configFile: 'f.yaml', readFile: () => yaml });
    assert.equal(config.clientId, 'c');
  });
});
