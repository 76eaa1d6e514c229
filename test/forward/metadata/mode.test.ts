/**
 * The OIDC metadata gateway (seed D rows of the forwarder acceptance table), over real sockets: a
 * node:http server around the mode's handler, in front of the Kubernetes API double over HTTPS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ManualClock } from '../../../src/clock.js';
import { DISCOVERY_PATH, JWKS_PATH, metadataMode, type MetadataOptions } from '../../../src/forward/metadata/mode.js';
import type { ModeHandler } from '../../../src/forward/engine/mode.js';
import { silentLogger, type Logger } from '../../../src/obs/log.js';
import { capturingLogger } from '../../helpers/bearer.js';
import { send, type Sent } from '../../helpers/http-send.js';
import { startKubeApi, type KubeApi, type RecordedRequest } from '../../helpers/kube-api.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const readFile = (p: string): string => readFileSync(p, 'utf8');
const sha = (s: string): string => `"${createHash('sha256').update(s).digest('hex')}"`;

interface Gateway {
  readonly port: number;
  readonly handler: ModeHandler;
  readonly clock: ManualClock;
  get(path: string, headers?: Record<string, string>, method?: string): Promise<Sent>;
  /** Resolves once the gateway's server has received `n` requests in all. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

async function startGateway(api: KubeApi, over: Record<string, unknown> = {}, log: Logger = silentLogger): Promise<Gateway> {
  const errs: string[] = [];
  const options: MetadataOptions = metadataMode.parse(
    { upstream: api.url, tokenFile: join(api.serviceAccountDir, 'token'), caFile: api.caFile, ...over },
    'forwarders[0]',
    errs,
  );
  assert.deepEqual(errs, []);
  const clock = new ManualClock(NOW);
  const handler = await metadataMode.create(options, { log, clock, readFile });
  const events = new EventEmitter();
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    handler.handle(req, res);
    events.emit('request');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    handler,
    clock,
    get: (path, headers = {}, method = 'GET') => send(port, path, { method, headers }),
    async received(n) {
      while (count < n) await once(events, 'request');
    },
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('OIDC metadata gateway (kube-oidc-gateway rows)', () => {
  let api: KubeApi;
  const upstream = (path: string) => (r: RecordedRequest) => r.path === path;
  const fetches = (path: string): number => api.requests.filter(upstream(path)).length;
  const withGateway = async (over: Record<string, unknown>, body: (g: Gateway) => Promise<void>, log?: Logger): Promise<void> => {
    const g = await startGateway(api, over, log);
    try {
      await body(g);
    } finally {
      await g.close();
      api.setDocument('discovery', { kind: 'default' });
      api.setDocument('jwks', { kind: 'default' });
    }
  };

  before(async () => {
    api = await startKubeApi();
  });
  after(() => api.close());

  describe('republish: exact paths, GET and HEAD, 404 and 405', () => {
    it('GET both documents: fetched over HTTPS with the service-account token, pretty JSON with key order kept', () =>
      withGateway({}, async (g) => {
        const d = await g.get(DISCOVERY_PATH);
        assert.equal(d.status, 200);
        const discovery = JSON.parse(d.body) as { issuer: string; jwks_uri: string };
        assert.equal(discovery.issuer, api.issuer);
        assert.equal(d.body, JSON.stringify(discovery, null, 2));
        const seen = api.requests.filter(upstream(DISCOVERY_PATH)).at(-1)!;
        assert.equal(seen.method, 'GET');
        assert.equal(seen.bearer, api.token);
        const j = await g.get(JWKS_PATH);
        assert.equal(j.status, 200);
        const key = (JSON.parse(j.body) as { keys: Record<string, unknown>[] }).keys[0]!;
        assert.deepEqual(Object.keys(key), ['use', 'kty', 'kid', 'alg', 'n', 'e'], 'upstream key order, not sorted');
        assert.match(j.body, /^\{\n {2}"keys": \[\n {4}\{\n {6}"use": "sig",/);
      }));

    it('HEAD → 200 with the headers and no body; the query is ignored', () =>
      withGateway({}, async (g) => {
        const h = await g.get(JWKS_PATH, {}, 'HEAD');
        assert.equal(h.status, 200);
        assert.equal(h.body, '');
        assert.ok(Number(h.headers['content-length']) > 0);
        assert.equal((await g.get(`${JWKS_PATH}?x=1`)).status, 200);
      }));

    it('anything else → 404 (trailing slash, root, prefixes, case) without an upstream call', () =>
      withGateway({}, async (g) => {
        const before = api.requests.length;
        for (const p of [
          '/',
          '/openid/v1/jwks/',
          '/openid/v1',
          '/openid/v1/jwks2',
          '/.well-known/openid-configuration/x',
          '/OPENID/v1/jwks',
          '//openid/v1/jwks',
        ]) {
          const r = await g.get(p);
          assert.equal(r.status, 404, p);
          assert.equal(r.body, 'Not found');
        }
        assert.equal(api.requests.length, before);
      }));

    it('other methods on the documents → 405 with Allow: GET, HEAD', () =>
      withGateway({}, async (g) => {
        for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
          const r = await g.get(DISCOVERY_PATH, {}, m);
          assert.equal(r.status, 405, m);
          assert.equal(r.headers['allow'], 'GET, HEAD');
        }
      }));
  });

  describe('server-side cache', () => {
    it('defaults: TTL 60 s, upstream timeout 5 s, client TTL 3600 s', () => {
      const errs: string[] = [];
      const o = metadataMode.parse({}, 'f', errs);
      assert.deepEqual(errs, []);
      assert.equal(o.cacheTtlSeconds, 60);
      assert.equal(o.upstreamTimeoutMs, 5000);
      assert.equal(o.clientCacheTtlSeconds, 3600);
      assert.equal(o.prettyPrint, true);
    });

    it('a document is fetched once per TTL, each document on its own', () =>
      withGateway({}, async (g) => {
        const [d0, j0] = [fetches(DISCOVERY_PATH), fetches(JWKS_PATH)];
        await g.get(JWKS_PATH);
        g.clock.advance(59_999);
        await g.get(JWKS_PATH);
        assert.equal(fetches(JWKS_PATH), j0 + 1);
        assert.equal(fetches(DISCOVERY_PATH), d0, 'the other document is not fetched');
        g.clock.advance(1);
        assert.equal((await g.get(JWKS_PATH)).status, 200);
        assert.equal(fetches(JWKS_PATH), j0 + 2);
      }));

    it('N concurrent misses → one upstream request, every client gets the document', () =>
      withGateway({}, async (g) => {
        const n0 = fetches(JWKS_PATH);
        const release = api.holdDocuments();
        const all = Promise.all(Array.from({ length: 8 }, () => g.get(JWKS_PATH)));
        await g.received(8);
        await api.waitForRequests(n0 + 1, upstream(JWKS_PATH));
        release();
        const answers = await all;
        assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
        assert.equal(new Set(answers.map((a) => a.body)).size, 1);
        assert.equal(fetches(JWKS_PATH), n0 + 1);
      }));

    it('an upstream that does not answer within the timeout → 502 (no copy yet)', () =>
      withGateway({ upstreamTimeoutSeconds: 0.05 }, async (g) => {
        api.setDocument('discovery', { kind: 'hang' });
        const r = await g.get(DISCOVERY_PATH);
        assert.equal(r.status, 502);
        assert.equal(r.body, 'Bad gateway');
      }));

    it('a document over the size cap is an upstream error (502), never truncated', () =>
      withGateway({ maxBytes: 1024 }, async (g) => {
        api.setDocument('jwks', { kind: 'json', value: { keys: [{ n: 'x'.repeat(2000) }] } });
        const r = await g.get(JWKS_PATH);
        assert.equal(r.status, 502);
        assert.equal(r.body, 'Bad gateway');
      }));
  });

  describe('client caching headers', () => {
    it('Content-Type, Cache-Control public max-age=3600, Expires, strong ETag = quoted SHA-256 of the body', () =>
      withGateway({}, async (g) => {
        const r = await g.get(DISCOVERY_PATH);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['cache-control'], 'public, max-age=3600');
        assert.equal(r.headers['expires'], new Date(NOW + 3600_000).toUTCString());
        assert.equal(r.headers['etag'], sha(r.body));
        assert.doesNotMatch(String(r.headers['etag']), /^W\//);
      }));

    it('If-None-Match with the ETag → 304 without a body (and without an upstream call while fresh)', () =>
      withGateway({}, async (g) => {
        const first = await g.get(JWKS_PATH);
        const n = fetches(JWKS_PATH);
        const r = await g.get(JWKS_PATH, { 'if-none-match': String(first.headers['etag']) });
        assert.equal(r.status, 304);
        assert.equal(r.body, '');
        assert.equal(r.headers['etag'], first.headers['etag']);
        assert.equal(fetches(JWKS_PATH), n);
        assert.equal((await g.get(JWKS_PATH, { 'if-none-match': '"something-else"' })).status, 200);
      }));

    it('clientCacheTtlSeconds 7200 → max-age=7200; two gateways give the same ETag for the same content', async () => {
      const a = await startGateway(api, { clientCacheTtlSeconds: 7200 });
      const b = await startGateway(api);
      try {
        const ra = await a.get(JWKS_PATH);
        assert.equal(ra.headers['cache-control'], 'public, max-age=7200');
        assert.equal(ra.headers['expires'], new Date(NOW + 7200_000).toUTCString());
        assert.equal((await b.get(JWKS_PATH)).headers['etag'], ra.headers['etag']);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('stale on error', () => {
    it('upstream failing (500, invalid JSON, timeout) with a copy → 200 with the copy and the lowered max-age', () =>
      // The timeout also bounds the first, good fetch: 50 ms was passed on a busy machine (no copy, 502).
      withGateway({ upstreamTimeoutSeconds: 2 }, async (g) => {
        const good = await g.get(JWKS_PATH);
        assert.equal(good.status, 200, 'the copy to fall back on');
        for (const failure of [
          { kind: 'raw', body: 'etcd down', status: 500 },
          { kind: 'raw', body: '{"keys": [' },
          { kind: 'raw', body: '[1,2]' },
          { kind: 'hang' },
        ] as const) {
          api.setDocument('jwks', failure);
          g.clock.advance(60_000);
          const n = fetches(JWKS_PATH);
          const r = await g.get(JWKS_PATH);
          assert.equal(fetches(JWKS_PATH), n + 1, 'the upstream was asked');
          assert.equal(r.status, 200, JSON.stringify(failure));
          assert.equal(r.body, good.body);
          assert.equal(r.headers['etag'], good.headers['etag']);
          assert.equal(r.headers['cache-control'], 'public, max-age=60');
          assert.equal(r.headers['expires'], new Date(g.clock.now() + 60_000).toUTCString());
        }
      }));

    it('after a failure the copy is served without asking the upstream for 10 s; then it is asked again and recovers', () =>
      withGateway({}, async (g) => {
        await g.get(JWKS_PATH);
        api.setDocument('jwks', { kind: 'raw', body: 'no', status: 503 });
        g.clock.advance(60_000);
        await g.get(JWKS_PATH);
        const n = fetches(JWKS_PATH);
        api.setDocument('jwks', { kind: 'default' });
        g.clock.advance(9_999);
        assert.equal((await g.get(JWKS_PATH)).headers['cache-control'], 'public, max-age=60');
        assert.equal(fetches(JWKS_PATH), n);
        g.clock.advance(1);
        const r = await g.get(JWKS_PATH);
        assert.equal(fetches(JWKS_PATH), n + 1);
        assert.equal(r.headers['cache-control'], 'public, max-age=3600');
      }));

    it('staleness is bounded: past TTL + maxStaleSeconds → 502', () =>
      withGateway({ maxStaleSeconds: 100 }, async (g) => {
        await g.get(JWKS_PATH);
        api.setDocument('jwks', { kind: 'raw', body: 'down', status: 500 });
        g.clock.advance(160_000);
        assert.equal((await g.get(JWKS_PATH)).status, 200);
        g.clock.advance(1_000);
        const r = await g.get(JWKS_PATH);
        assert.equal(r.status, 502);
        assert.equal(r.body, 'Bad gateway');
      }));

    it('no copy → 502 with a short body that leaks nothing from the upstream', () =>
      withGateway({}, async (g) => {
        api.setDocument('discovery', { kind: 'raw', body: 'internal: etcd 10.0.0.7:2379 refused', status: 500 });
        const r = await g.get(DISCOVERY_PATH);
        assert.equal(r.status, 502);
        assert.equal(r.body, 'Bad gateway');
        assert.equal(r.headers['etag'], undefined);
        assert.equal(r.headers['cache-control'], undefined);
      }));
  });

  describe('pretty printing', () => {
    it('off: the upstream bytes are served as they are (validated as JSON), ETag of those bytes', () =>
      withGateway({ prettyPrint: false }, async (g) => {
        const raw = '{"z":1,   "a":{"b":[1,2]}}';
        api.setDocument('discovery', { kind: 'raw', body: raw });
        const r = await g.get(DISCOVERY_PATH);
        assert.equal(r.body, raw);
        assert.equal(r.headers['etag'], sha(raw));
      }));

    it('invalid JSON is an upstream error, pretty or not (502 without a copy)', async () => {
      for (const prettyPrint of [true, false]) {
        await withGateway({ prettyPrint }, async (g) => {
          api.setDocument('discovery', { kind: 'raw', body: '<html>login</html>', contentType: 'text/html' });
          assert.equal((await g.get(DISCOVERY_PATH)).status, 502);
        });
      }
    });
  });

  describe('health and readiness', () => {
    it('/healthz → 200 OK without touching the upstream, even when it is failing', () =>
      withGateway({}, async (g) => {
        api.setDocument('discovery', { kind: 'raw', body: 'down', status: 500 });
        const n = api.requests.length;
        const r = await g.get('/healthz');
        assert.equal(r.status, 200);
        assert.equal(r.body, 'OK');
        assert.equal(api.requests.length, n);
      }));

    it('/readyz refreshes both documents (even when fresh) → 200 OK; ready() agrees', () =>
      withGateway({}, async (g) => {
        await g.get(JWKS_PATH);
        const [d, j] = [fetches(DISCOVERY_PATH), fetches(JWKS_PATH)];
        const r = await g.get('/readyz');
        assert.equal(r.status, 200);
        assert.equal(r.body, 'OK');
        assert.equal(fetches(DISCOVERY_PATH), d + 1);
        assert.equal(fetches(JWKS_PATH), j + 1);
        assert.equal(await g.handler.ready(), true);
      }));

    it('/readyz → 503 when either document cannot be fetched; ready() false', () =>
      withGateway({}, async (g) => {
        api.setDocument('jwks', { kind: 'raw', body: 'down', status: 500 });
        const r = await g.get('/readyz');
        assert.equal(r.status, 503);
        assert.equal(await g.handler.ready(), false);
      }));

    it('non-GET on /healthz and /readyz → 405', () =>
      withGateway({}, async (g) => {
        assert.equal((await g.get('/healthz', {}, 'POST')).status, 405);
        assert.equal((await g.get('/readyz', {}, 'DELETE')).status, 405);
      }));
  });

  describe('service-account token reload', () => {
    it('a rotated token file is used for the next fetch (the old token is refused by the API server)', () =>
      withGateway({}, async (g) => {
        await g.get(JWKS_PATH);
        const old = api.token;
        api.setToken(await api.issueToken({ namespace: 'oidc-judge', name: 'oidc-judge' }));
        g.clock.advance(60_000);
        const r = await g.get(JWKS_PATH);
        assert.equal(r.status, 200);
        assert.equal(r.headers['cache-control'], 'public, max-age=3600', 'fresh, not a stale copy');
        const seen = api.requests.filter(upstream(JWKS_PATH)).at(-1)!;
        assert.equal(seen.bearer, api.token);
        assert.notEqual(seen.bearer, old);
      }));

    it('tokens never appear in the logs, also when fetches fail', async () => {
      const { log, lines } = capturingLogger('DEBUG');
      await withGateway(
        {},
        async (g) => {
          api.setDocument('jwks', { kind: 'raw', body: 'x', status: 500 });
          await g.get(JWKS_PATH);
          await g.get(DISCOVERY_PATH);
        },
        log,
      );
      assert.ok(lines.length > 0);
      assert.ok(!lines.join('\n').includes(api.token));
    });
  });

  describe('startup', () => {
    it('refuses to start when the token or CA file cannot be read, naming the option', async () => {
      const deps = { log: silentLogger, clock: new ManualClock(NOW), readFile };
      const parse = (raw: Record<string, unknown>): MetadataOptions => metadataMode.parse({ upstream: api.url, ...raw }, 'f', []);
      await assert.rejects(
        Promise.resolve().then(() => metadataMode.create(parse({ tokenFile: '/nonexistent/token', caFile: api.caFile }), deps)),
        /tokenFile: cannot read \/nonexistent\/token/,
      );
      await assert.rejects(
        Promise.resolve().then(() =>
          metadataMode.create(parse({ tokenFile: join(api.serviceAccountDir, 'token'), caFile: join(api.serviceAccountDir, 'namespace') }), deps),
        ),
        /caFile: .* holds no PEM certificate/,
      );
    });

    it('a kubeconfig instead of the token and CA files', async () => {
      const kubeconfig = join(api.serviceAccountDir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        `current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: "${api.url}", certificate-authority: ${api.caFile}}}]\nusers: [{name: u, user: {tokenFile: token}}]\n`,
      );
      await withGateway({ kubeconfig, upstream: 'https://ignored.invalid' }, async (g) => {
        assert.equal((await g.get(DISCOVERY_PATH)).status, 200);
        assert.equal(api.requests.filter(upstream(DISCOVERY_PATH)).at(-1)!.bearer, api.token);
      });
    });
  });
});
