/**
 * Hostile paths against the skip rules, through all five doors of the assembled service — Envoy
 * `http_service`, nginx's verify path, Traefik's forward-auth, gRPC ext_authz and the forwarder (whose upstream must then
 * receive exactly the path that was judged: the forwarder judges and sends one canonical path, so
 * `//public/x` is skipped there as the `/public/x` the upstream receives, see src/forward/engine/target.ts). Dot segments, repeated slashes, `%2e` `%2f` `%5c`,
 * double encoding, `;` parameters, case, trailing slashes, NUL and control bytes, fragments,
 * absolute-form targets, `:authority` against `Host`, and method overrides: a path is skipped
 * only when every reading of it is under a skipped prefix; anything else must authenticate (401).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/app.js';
import { send } from '../helpers/http-send.js';
import { API } from './kit.js';
import { echoOf, startGuarded, type Guarded } from './stack.js';

const YAML = `
skipRules:
  - { methods: [GET, HEAD], path: { prefix: /readonly } }
  - { host: public.example.com, path: { prefix: /pub } }
  - { path: { regex: "^/assets/[a-z0-9]+\\\\.js$" } }
`;

const SKIPPED = [
  '/public',
  '/public/',
  '/public/x',
  '/public//x',
  '/public/x/',
  '/public/x?../../admin',
  '/public/x?p=%2e%2e%2f',
  '/%70ublic/x',
  '/readonly/x',
  '/assets/abc.js',
];
/** What the forwarder sends (and judged) for the skipped paths it rewrites; the others go as they came. */
const FORWARDED_AS: Readonly<Record<string, string>> = { '/public//x': '/public/x', '/%70ublic/x': '/public/x' };
/**
 * Paths the other doors must make authenticate (an upstream behind them could read them outside
 * the skipped prefix) but that the forwarder rewrites to a skipped path, judges as such and sends
 * that way: the upstream receives a path with one reading.
 */
const FORWARDER_SKIPS: Readonly<Record<string, string>> = {
  '//public/x': '/public/x',
  '///public': '/public',
  '/./public/x': '/public/x',
  '/public/./x': '/public/x',
  '/assets/abc%2ejs': '/assets/abc.js',
  '/assets/x/../abc.js': '/assets/abc.js',
};
const MUST_AUTHENTICATE = [
  '/PUBLIC/x',
  '/Public',
  '/publicity',
  '/public-x',
  '/public/../admin',
  '/public/%2e%2e/admin',
  '/public/%2E%2E/admin',
  '/public/.%2e/admin',
  '/public/%2e./admin',
  '/public%2f..%2fadmin',
  '/public%2F..%2Fadmin',
  '/public/..%2fadmin',
  '/public%5c..%5cadmin',
  '/public%5C..%5Cadmin',
  '/public\\..\\admin',
  '/public\\x',
  '/public/%252e%252e/admin',
  '/public/%25%32%65%25%32%65/admin',
  '/public;/x',
  '/public;jsessionid=1/../admin',
  '/public/x;/../../admin',
  '/public/..;/admin',
  '/public%00/x',
  '/public/x%00',
  '/public/x%0a',
  '/public/x%0d%0aX-Injected:%201',
  '/public/x%09',
  '//public/x',
  '///public',
  '/./public/x',
  '/public/./x',
  '/public/x#/../../admin',
  '/public%23/x',
  '/public/%zz',
  '/public/%c0%ae%c0%ae/admin',
  '/public/%ff',
  '/assets/abc.js/..',
  '/assets/ABC.js',
  '/assets/abc.jsx',
  '/assets/abc%2ejs',
  '/assets/x/../abc.js',
];

describe('hostile paths against skip rules', () => {
  let g: Guarded;
  before(async () => {
    g = await startGuarded({ SKIP_AUTH_URLS: '/public' }, { yaml: YAML });
  });
  after(() => g.stop());

  /** The four verdicts for `raw`, and what the upstream received when the forwarder let it through. */
  async function verdicts(raw: string, headers: Record<string, string> = {}, method = 'GET') {
    const before = g.upstream.heads.length;
    const http = (await request(g.http, raw, { ...headers, ...API }, { method })).status;
    const verify = (await request(g.http, `/authservice/verify${raw}`, { ...headers, ...API, 'x-original-method': method })).status;
    const traefik = (
      await request(g.http, '/authservice/forward-auth', {
        ...headers,
        ...API,
        'x-forwarded-uri': raw,
        'x-forwarded-method': method,
        'x-forwarded-host': 'app.example.com',
      })
    ).status;
    const r = await g.judge.grpc.check(raw, { ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), ...API }, { method });
    const grpc = r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0);
    const fwd = await send(g.ingress, raw, { method, headers: { ...headers, ...API } });
    const upstreamUrls = g.upstream.heads.slice(before).map((h) => h.url);
    return { http, verify, traefik, grpc, forwarder: fwd.status, upstreamUrls, echo: fwd.status === 200 && method !== 'HEAD' ? echoOf(fwd.body) : undefined };
  }

  it(`skips ${SKIPPED.length} paths every reading of which is under a skipped prefix, and forwards them as judged`, async () => {
    for (const raw of SKIPPED) {
      const v = await verdicts(raw);
      assert.deepEqual([v.http, v.verify, v.traefik, v.grpc, v.forwarder], [200, 204, 200, 200, 200], raw);
      assert.deepEqual(v.upstreamUrls, [FORWARDED_AS[raw] ?? raw], raw);
    }
  });

  it(`makes ${MUST_AUTHENTICATE.length} paths that could be read elsewhere authenticate, through every door (Traefik's too), and never forwards them`, async () => {
    for (const raw of MUST_AUTHENTICATE) {
      const v = await verdicts(raw);
      assert.deepEqual([v.http, v.verify, v.traefik, v.grpc], [401, 401, 401, 401], raw);
      // The forwarder judges the path it would send (401), refuses what it cannot send unambiguously
      // (400), or sends the one skipped reading it judged.
      const sent = FORWARDER_SKIPS[raw];
      if (sent !== undefined) {
        assert.equal(v.forwarder, 200, raw);
        assert.deepEqual(v.upstreamUrls, [sent], raw);
        continue;
      }
      assert.ok(v.forwarder === 401 || v.forwarder === 400, `${raw}: forwarder ${v.forwarder}`);
      assert.deepEqual(v.upstreamUrls, [], raw);
    }
  });

  it('absolute-form targets: reduced to their path by the HTTP door when they name the Host, ambiguous over gRPC, refused when the hosts differ and by the forwarder', async () => {
    const before = g.upstream.heads.length;
    assert.equal((await request(g.http, 'http://APP.example.com:80/public/x', API)).status, 200);
    assert.equal((await request(g.http, 'http://app.example.com/admin', API)).status, 401);
    assert.equal((await request(g.http, 'http://evil.example/public/x', API)).status, 400);
    assert.equal((await request(g.http, 'http://evil.example/admin', API)).status, 400);
    assert.equal((await g.judge.grpc.check('http://app.example.com/public/x', API)).denied_response?.status?.code, 401);
    assert.equal((await g.judge.grpc.check('http://evil.example/public/x', API)).denied_response?.status?.code, 400);
    assert.equal((await send(g.ingress, 'http://evil.example/public/x', { headers: API })).status, 400);
    assert.equal((await send(g.ingress, '*', { method: 'OPTIONS', headers: API })).status, 400);
    assert.equal(g.upstream.heads.length, before);
  });

  it('host rules: the judged host is :authority (gRPC) or Host, case and port ignored, look-alikes not', async () => {
    const ok = (host: string) => request(g.http, '/pub/x', { host, ...API }).then((r) => r.status);
    assert.equal(await ok('public.example.com'), 200);
    assert.equal(await ok('PUBLIC.example.com:8443'), 200);
    assert.equal(await ok('public.example.com.'), 200);
    for (const host of ['public.example.com.evil.example', 'xpublic.example.com', 'public.example.co', 'private.example.com'])
      assert.equal(await ok(host), 401, host);
    // Envoy's :authority (http.host) is what counts, not a Host header the client added.
    const spoofed = await g.judge.grpc.check('/pub/x', { host: 'public.example.com', ...API }, { host: 'private.example.com' });
    assert.equal(spoofed.denied_response?.status?.code, 401);
    const real = await g.judge.grpc.check('/pub/x', { host: 'private.example.com', ...API }, { host: 'public.example.com' });
    assert.equal(real.status.code, 0);
  });

  it('method-limited skip rules: the real method decides, and a method override naming another method is not skipped', async () => {
    assert.deepEqual((await verdicts('/readonly/x', {}, 'HEAD')).grpc, 200);
    for (const [method, headers, path] of [
      ['POST', {}, '/readonly/x'],
      ['POST', { 'X-HTTP-Method-Override': 'GET' }, '/readonly/x'],
      ['GET', { 'X-HTTP-Method-Override': 'DELETE' }, '/readonly/x'],
      ['GET', { 'X-HTTP-Method': 'PUT' }, '/readonly/x'],
      ['GET', { 'X-Method-Override': 'PATCH' }, '/readonly/x'],
      ['GET', {}, '/readonly/x?_method=DELETE'],
      ['GET', {}, '/readonly/x?a=1&_METHOD=delete'],
    ] as const) {
      const v = await verdicts(path, headers, method);
      assert.deepEqual([v.http, v.verify, v.traefik, v.grpc, v.forwarder], [401, 401, 401, 401, 401], `${method} ${path} ${JSON.stringify(headers)}`);
      assert.deepEqual(v.upstreamUrls, []);
    }
    // An override that names the judged method changes nothing.
    assert.deepEqual((await verdicts('/readonly/x', { 'X-HTTP-Method-Override': 'get' })).grpc, 200);
  });
});
