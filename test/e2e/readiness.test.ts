/**
 * Readiness and shutdown of the assembled service, with a real OpenID Provider that is not there
 * yet at start-up, and one whose key endpoint answers only when the test says so.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { accessToken, optionValue, request, startJudge, untilReady, type CheckResponse, type Judged } from '../helpers/app.js';
import { newKey, startOp, type TestOp } from '../helpers/op.js';

const API = { accept: 'application/json' };
const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}`, ...API });

describe('readiness follows OIDC discovery', () => {
  let op: TestOp | undefined;
  let judge: Judged | undefined;
  after(async () => {
    await judge?.stop();
    await op?.stop();
  });

  it('unready (503, NOT_SERVING) until the provider is discovered; skips still pass, tokens get 503; then ready', async () => {
    // The provider's address is known but nothing listens there yet.
    op = await startOp();
    await op.stop();
    const token = await accessToken(op);
    judge = await startJudge(op.issuer, { ready: false, env: { DISCOVERY_RETRY_INTERVAL: '1', SKIP_AUTH_URLS: '/public' } });
    const { http, health } = judge.app.ports;

    const readyz = await request(health, '/readyz', { host: '127.0.0.1' });
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /OIDC discovery has not succeeded yet/);
    assert.equal((await request(health, '/healthz', { host: '127.0.0.1' })).status, 200);
    assert.equal(await judge.grpc.health(), 'NOT_SERVING');
    assert.equal(await judge.grpc.health('envoy.service.auth.v3.Authorization'), 'NOT_SERVING');

    // A skipped path does not need the provider.
    const skipped = await judge.grpc.check('/public/app.js', API);
    assert.equal(skipped.status.code, 0);
    assert.equal((await request(http, '/public/app.js', API)).status, 200);

    // A token for this issuer cannot be checked yet: 503 (UNAVAILABLE), never an allow, never a 401.
    const unavailable = await judge.grpc.check('/api', bearer(token));
    assert.equal(unavailable.status.code, 14);
    assert.equal(unavailable.denied_response?.status?.code, 503);
    const unavailableHttp = await request(http, '/api', bearer(token));
    assert.equal(unavailableHttp.status, 503);
    assert.equal(unavailableHttp.headers['retry-after'], '5');
    assert.equal((await request(http, '/authservice/verify/api', bearer(token))).status, 503);
    // Without credentials there is nothing to wait for: 401.
    assert.equal((await request(http, '/api', API)).status, 401);

    const ready = untilReady(judge.app.readiness);
    await op.restart();
    await ready;

    assert.equal((await request(health, '/readyz', { host: '127.0.0.1' })).status, 200);
    assert.equal((await request(health, '/healthz', { host: '127.0.0.1' })).status, 200);
    assert.equal(await judge.grpc.health(), 'SERVING');
    const allowed = await judge.grpc.check('/api', bearer(token));
    assert.equal(allowed.status.code, 0, JSON.stringify(allowed.denied_response));
    assert.equal((await request(http, '/api', bearer(token))).status, 200);
  });
});

/**
 * Holds the provider's `/jwks` until released: the provider is stopped and this server takes its
 * port, so the judge's refetch for an unknown `kid` waits on it. On release it answers with the
 * provider's published keys plus `extra` (a key the provider rotated in while it was away).
 */
async function holdJwks(op: TestOp, extra: Awaited<ReturnType<typeof newKey>>) {
  await op.stop();
  let arrived!: () => void;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  let pending: ServerResponse | undefined;
  const server = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    pending = res;
    arrived();
  });
  await new Promise<void>((resolve) => server.listen(op.port, '127.0.0.1', resolve));
  return {
    held,
    release(): void {
      const body = JSON.stringify({ keys: [...op.keys, extra].map((k) => k.publicJwk) });
      pending?.writeHead(200, { 'content-type': 'application/json' }).end(body);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('stop() lets checks in flight finish', () => {
  for (const door of ['grpc', 'http'] as const) {
    it(`${door}: a check waiting on the provider when stop() begins still gets its answer`, async () => {
      const op = await startOp();
      const clock = new ManualClock(Date.now());
      const judge = await startJudge(op.issuer, { clock, env: { JWKS_MIN_REFETCH_INTERVAL: '1', DRAIN_TIMEOUT: '10' } });
      const { app } = judge;
      const warm = await judge.grpc.check('/api', bearer(await accessToken(op, 'warm@example.com', ['devs'], {}, {}, clock.now())));
      assert.equal(warm.status.code, 0);

      // A token signed with a key the judge has not seen yet: verifying it needs a JWKS refetch.
      const rotated = await newKey('RS256');
      const token = await accessToken(op, 'late@example.com', ['devs'], {}, { key: rotated }, clock.now());
      const gate = await holdJwks(op, rotated);
      clock.advance(2000);
      let stopping: Promise<unknown> | undefined;
      try {
        const inFlight =
          door === 'grpc'
            ? judge.grpc.check('/api', bearer(token)).then((r: CheckResponse) => ({
                status: r.status.code === 0 ? 200 : (r.denied_response?.status?.code ?? 0),
                user: optionValue(r.ok_response?.headers, 'kubeflow-userid'),
                connection: undefined,
              }))
            : request(app.ports.http, '/api', bearer(token)).then((r) => ({
                status: r.status,
                user: r.headers['kubeflow-userid'],
                connection: r.headers.connection,
              }));
        await gate.held;

        let stopped = false;
        stopping = app.stop().then(() => (stopped = true));
        assert.equal(app.readiness.ready, false);
        const readyz = await request(app.ports.health, '/readyz', { host: '127.0.0.1' });
        assert.equal(readyz.status, 503);
        assert.match(readyz.body, /shutting down/);
        if (door === 'http') await assert.rejects(request(app.ports.http, '/api', bearer(token)), { code: 'ECONNREFUSED' });
        assert.equal(stopped, false, 'stop() waits for the check in flight');

        gate.release();
        const answer = await inFlight;
        assert.equal(answer.status, 200);
        assert.equal(answer.user, 'late@example.com');
        if (door === 'http') assert.equal(answer.connection, 'close');
        await stopping;
        assert.equal(stopped, true);
      } finally {
        judge.grpc.close();
        await (stopping ?? app.stop());
        await gate.close();
        await op.stop();
      }
    });
  }
});
