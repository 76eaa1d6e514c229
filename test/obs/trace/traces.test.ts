/**
 * Traces end to end: the judge started with `OTEL_*` settings sends its spans to an OTLP/HTTP
 * receiver started here (protobuf, decoded in test/helpers/otlp.ts). A check continues the trace
 * of its request — W3C `traceparent` over HTTP, B3 multi-header over gRPC (what Istio's Envoy
 * sends), B3 single header — into one span with the decision's attributes; the calls it makes
 * (JWKS refetch on an unknown key, session store) are its children; the ingress forwarder sends
 * the check's context upstream; the web server's requests get a span too. No attribute carries
 * the token, the cookie or the query.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startApp, type App } from '../../../src/app/start.js';
import { ManualClock } from '../../../src/clock.js';
import { listenOn } from '../../../src/net/listen.js';
import { silentLogger } from '../../../src/obs/log.js';
import { activeTracing } from '../../../src/obs/trace/port.js';
import { traceSettingsFrom } from '../../../src/obs/trace/settings.js';
import { accessToken, JudgeClient, testConfig, untilReady } from '../../helpers/app.js';
import { send } from '../../helpers/http-send.js';
import { freePort } from '../../helpers/net.js';
import { newKey, startOp, type TestOp } from '../../helpers/op.js';
import { startReceiver, type ReceivedSpan, type Receiver } from '../../helpers/otlp.js';

const id = (bytes: number): string => randomBytes(bytes).toString('hex');

describe('traces', () => {
  let op: TestOp;
  let receiver: Receiver;
  let app: App;
  let grpc: JudgeClient;
  const clock = new ManualClock(Date.now());
  const upstreamSaw: IncomingHttpHeaders[] = [];
  const upstream = createServer((req, res) => {
    upstreamSaw.push(req.headers);
    res.end('upstream');
  });
  const secrets: string[] = [];
  const unsampled: string[] = [];

  before(async () => {
    op = await startOp();
    receiver = await startReceiver();
    const upstreamPort = await listenOn(upstream, '127.0.0.1', 0);
    const config = testConfig(op.issuer, {
      env: { INGRESS_PORT: String(await freePort()), INGRESS_UPSTREAM: `http://127.0.0.1:${upstreamPort}`, JWKS_MIN_REFETCH_INTERVAL: '1' },
    });
    const traces = traceSettingsFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'judge-under-test', OTEL_BSP_SCHEDULE_DELAY: '50' });
    app = await startApp(config, { log: silentLogger, clock, traces: traces! });
    grpc = new JudgeClient(app.ports.grpc);
    await untilReady(app.readiness);
  });

  after(async () => {
    grpc.close();
    await app.stop();
    upstream.close();
    await receiver.close();
    await op.stop();
  });

  const spansOf = (traceId: string, n: number): Promise<ReceivedSpan[]> =>
    receiver.until((all) => all.filter((s) => s.traceId === traceId).length >= n).then((all) => all.filter((s) => s.traceId === traceId));

  it('continues a W3C traceparent into one check span, with a JWKS refetch as its child', async () => {
    // A key the judge has not seen: the check refetches the JWKS (past the minimum interval on the injected clock).
    const key = await newKey('RS256');
    op.rotate([...op.keys, key]);
    clock.advance(2000);
    const token = await accessToken(op, 'alice@example.com', ['devs'], {}, { key }, clock.now());
    secrets.push(token);
    const traceId = id(16);
    const parent = id(8);
    const r = await send(app.ports.http, '/reports?access_token=leak-me', {
      headers: { host: 'app.example.com', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=x' },
    });
    assert.equal(r.status, 200);
    const spans = await spansOf(traceId, 2);
    const check = spans.find((s) => s.name === 'oidc_judge.check')!;
    assert.equal(check.parentId, parent);
    assert.equal(check.kind, 2 /* SERVER */);
    assert.equal(check.resource['service.name'], 'judge-under-test');
    assert.deepEqual(
      {
        decision: check.attributes['oidc_judge.decision'],
        status: check.attributes['http.response.status_code'],
        authenticator: check.attributes['oidc_judge.authenticator'],
        provider: check.attributes['oidc_judge.provider'],
        path: check.attributes['url.path'],
        via: check.attributes['oidc_judge.via'],
      },
      { decision: 'allow', status: 200, authenticator: 'access_token', provider: op.issuer, path: '/reports', via: 'http' },
    );
    const jwks = spans.find((s) => s.name === 'oidc.jwks')!;
    assert.equal(jwks.parentId, check.spanId);
    assert.equal(jwks.kind, 3 /* CLIENT */);
    assert.equal(jwks.attributes['http.response.status_code'], 200);
  });

  it('continues B3 multi-header context (Istio) over gRPC; a session cookie check has a store call as its child', async () => {
    const traceId = id(16);
    const parent = id(8);
    // Well formed (a store lookup happens), unknown to the store.
    const cookie = randomBytes(32).toString('base64url');
    secrets.push(cookie);
    const res = await grpc.check('/home?code=leak-me', {
      cookie: `authservice_session=${cookie}`,
      'x-b3-traceid': traceId,
      'x-b3-spanid': parent,
      'x-b3-sampled': '1',
    });
    assert.notEqual(res.denied_response, null);
    const spans = await spansOf(traceId, 2);
    const check = spans.find((s) => s.name === 'oidc_judge.check')!;
    assert.equal(check.parentId, parent);
    assert.equal(check.attributes['oidc_judge.via'], 'grpc');
    assert.equal(check.attributes['oidc_judge.decision'], 'deny');
    assert.equal(check.attributes['url.path'], '/home');
    const store = spans.find((s) => s.name.startsWith('store.'))!;
    assert.equal(store.parentId, check.spanId);
    assert.equal(store.attributes['db.system.name'], 'sqlite');
  });

  it('continues a B3 single header', async () => {
    const traceId = id(16);
    const parent = id(8);
    await send(app.ports.http, '/x', { headers: { host: 'app.example.com', b3: `${traceId}-${parent}-1` } });
    const [check] = await spansOf(traceId, 1);
    assert.equal(check!.parentId, parent);
  });

  it('does not record a check its caller did not sample (parent-based sampling), yet propagates upstream', async () => {
    const traceId = id(16);
    unsampled.push(traceId);
    const token = await accessToken(op, 'bob@example.com', ['devs'], {}, {}, clock.now());
    secrets.push(token);
    const r = await send(app.ports.ingress, '/api', {
      headers: { host: 'app.example.com', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${id(8)}-00` },
    });
    assert.equal(r.status, 200);
    const seen = upstreamSaw.at(-1)!;
    assert.match(String(seen['traceparent']), new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
  });

  it('the ingress forwarder sends the check span as the parent of the upstream request', async () => {
    const traceId = id(16);
    const token = await accessToken(op, 'carol@example.com', ['devs'], {}, {}, clock.now());
    secrets.push(token);
    const r = await send(app.ports.ingress, '/api?token=leak-me', {
      headers: { host: 'app.example.com', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${id(8)}-01` },
    });
    assert.equal(r.status, 200);
    const [check] = await spansOf(traceId, 1);
    assert.equal(check!.attributes['oidc_judge.via'], 'forwarder');
    const seen = upstreamSaw.at(-1)!;
    assert.equal(seen['traceparent'], `00-${traceId}-${check!.spanId}-01`);
    assert.equal(seen['x-b3-traceid'], traceId);
    assert.equal(seen['x-b3-spanid'], check!.spanId);
  });

  it('the web server (login, callback, pages) continues the trace too', async () => {
    const traceId = id(16);
    const parent = id(8);
    const r = await send(app.ports.web, '/site/homepage?code=leak-me', { headers: { host: 'app.example.com', traceparent: `00-${traceId}-${parent}-01` } });
    assert.equal(r.status, 200);
    const [web] = await spansOf(traceId, 1);
    assert.equal(web!.name, 'oidc_judge.web');
    assert.equal(web!.parentId, parent);
    assert.deepEqual(
      [web!.attributes['oidc_judge.via'], web!.attributes['url.path'], web!.attributes['http.response.status_code']],
      ['web', '/site/homepage', 200],
    );
  });

  it('puts no token, cookie or query into any span', () => {
    assert.ok(receiver.spans.length >= 6);
    assert.ok(receiver.contentTypes.every((t) => t === 'application/x-protobuf'));
    const text = JSON.stringify(receiver.spans);
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret reached a span');
    assert.ok(!text.includes('leak-me'), 'a query reached a span');
    assert.ok(!receiver.spans.some((s) => unsampled.includes(s.traceId)), 'an unsampled check was recorded');
  });

  it('is installed while the app runs', () => {
    assert.notEqual(activeTracing(), undefined);
  });
});
