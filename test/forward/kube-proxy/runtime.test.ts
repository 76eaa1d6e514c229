import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../../src/clock.js';
import { parseForwarderBlocks } from '../../../src/forward/runtime/blocks.js';
import { kubeProxyOptionsFromFlags } from '../../../src/forward/runtime/compat/kube-oidc-proxy.js';
import { kubeMode } from '../../../src/forward/kube-proxy/mode.js';
import type { ModeDefinition } from '../../../src/forward/engine/mode.js';
import { startForwarders, type Forwarders } from '../../../src/forward/runtime/run.js';
import { createLogger } from '../../../src/obs/log.js';
import { startKubeApi, type KubeApi } from '../../helpers/kube-api.js';
import { startHttpsIssuer, type HttpsIssuer } from '../../helpers/kube-issuer.js';

let api: KubeApi;
let iss: HttpsIssuer;
before(async () => {
  api = await startKubeApi({
    fallback: (req, res) => {
      const body = JSON.stringify({ user: req.headers['impersonate-user'], groups: req.headersDistinct['impersonate-group'] });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    },
  });
  iss = await startHttpsIssuer();
});
after(async () => {
  await api.close();
  await iss.close();
});

function get(url: string, headers: Record<string, string>, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? request : httpRequest;
    const req = send(url, { headers, ...(ca !== undefined ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kube proxy: from kube-oidc-proxy flags to a running TLS listener', () => {
  it('serves kubectl over TLS with an https issuer reached through --oidc-ca-file, and reports ready on /readyz and its checks on /metrics', {
    timeout: 60_000,
  }, async () => {
    const c = kubeProxyOptionsFromFlags({
      '--oidc-issuer-url': iss.issuer,
      '--oidc-client-id': 'kubernetes',
      '--oidc-ca-file': iss.caFile,
      '--oidc-username-claim': 'email',
      '--oidc-groups-claim': 'groups',
      '--oidc-groups-prefix': 'oidc:',
      '--bind-address': '127.0.0.1',
      '--secure-port': '0',
      '--tls-cert-file': api.tls.cert,
      '--tls-private-key-file': api.tls.key,
      '--server': api.url,
      '--certificate-authority': api.caFile,
      '--token-file': join(api.serviceAccountDir, 'token'),
    });
    assert.deepEqual(c.errors, []);
    const modes = new Map<string, ModeDefinition<unknown>>([['kube', kubeMode as ModeDefinition<unknown>]]);
    const parsed = parseForwarderBlocks([c.block], modes);
    assert.deepEqual(parsed.errors, []);
    const lines: string[] = [];
    const logged = new EventEmitter();
    const log = createLogger('info', { write: (s: string) => void (lines.push(s), logged.emit('line')) });
    let fw: Forwarders | undefined;
    try {
      fw = await startForwarders(parsed.blocks, modes, { log, clock: systemClock, readFile: (p) => readFileSync(p, 'utf8'), healthListen: '127.0.0.1:0' });
      const health = `http://127.0.0.1:${fw.healthPort}/readyz`;
      while (!lines.some((l) => l.includes('OIDC authenticator ready'))) await once(logged, 'line');
      assert.deepEqual(await fw.notReady(), []);
      assert.equal((await get(health, {})).status, 200);
      const now = Math.floor(Date.now() / 1000);
      const token = await iss.sign({ sub: 'x', email: 'carol@example.com', groups: ['sre'], aud: 'kubernetes', iat: now, exp: now + 300 });
      const r = await get(`https://127.0.0.1:${fw.listeners[0]!.port}/api/v1/pods`, { authorization: `Bearer ${token}` }, api.caPem);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { user: 'carol@example.com', groups: ['oidc:sre', 'system:authenticated'] });
      assert.ok(lines.some((l) => l.includes('AuSuccess') && l.includes('carol@example.com')));
      // The runtime's one registry: the kube mode's checks, scraped from the health listener.
      const scraped = await get(`http://127.0.0.1:${fw.healthPort}/metrics`, {});
      assert.equal(scraped.status, 200);
      assert.match(scraped.body, /^oidc_judge_decisions_total\{outcome="allow",status="200",authenticator="kube-oidc",via="forwarder"\} 1$/m);
      assert.ok(lines.some((l) => l.includes('"msg":"decision"') && l.includes('carol@example.com')));
    } finally {
      await fw?.stop(0);
    }
  });
});
