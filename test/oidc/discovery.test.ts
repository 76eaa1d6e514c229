import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { HttpClient } from '../../src/net/http-client.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { Discovery, type DiscoveryError, discoveryUrl, parseMetadata } from '../../src/oidc/discovery.js';
import { IssuerRegistry } from '../../src/oidc/issuers.js';
import { capturingLogger, counter } from '../helpers/bearer.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { ManualSchedule } from '../helpers/schedule.js';

describe('OIDC discovery', () => {
  let op: TestOp;
  const http = new HttpClient({ timeoutMs: 3000 });

  before(async () => {
    op = await startOp();
  });
  after(async () => {
    await op.stop();
    http.close();
  });

  test('discovers a real provider: metadata, ready promise and event, metrics', async () => {
    const metrics = createMetrics(false);
    const { log } = capturingLogger();
    const d = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log, metrics });
    let emitted = 0;
    d.on('ready', () => emitted++);
    assert.equal(d.isReady, false);
    assert.equal(await d.attempt(), true);
    assert.equal(d.metadata?.issuer, op.issuer);
    assert.equal(d.metadata?.jwks_uri, `${op.issuer}/jwks`);
    assert.equal(typeof d.metadata?.['token_endpoint'], 'string');
    assert.equal((await d.ready).issuer, op.issuer);
    assert.equal(emitted, 1);
    assert.equal(await d.attempt(), true, 'further attempts are no-ops');
    assert.equal(emitted, 1);
    assert.equal(await counter(metrics.discovery, { result: 'ok' }), 1);
  });

  test('an issuer that differs from the discovered one is rejected (trailing slash, host spelling)', async () => {
    for (const issuer of [`${op.issuer}/`, op.issuer.replace('127.0.0.1', 'localhost')]) {
      const metrics = createMetrics(false);
      const { log, lines } = capturingLogger();
      const d = new Discovery({ issuer, retryIntervalSeconds: 10, http, log, metrics });
      assert.equal(await d.attempt(), false, issuer);
      assert.equal(d.metadata, undefined);
      assert.equal(d.isReady, false);
      assert.equal(await counter(metrics.discovery, { result: 'error' }), 1);
      assert.equal(lines.length, 1, 'one log line per failed attempt');
      assert.match(lines[0]!, /does not equal the configured/);
    }
  });

  test('OIDC_ENDPOINTS: the metadata is given, never fetched (ready with the provider down)', async () => {
    const metrics = createMetrics(false);
    const { log } = capturingLogger();
    const issuer = 'http://127.0.0.1:9/never-fetched';
    const endpoints = { authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` };
    const registry = new IssuerRegistry(
      { oidcProvider: issuer, oidcEndpoints: endpoints, jwtIssuers: [], discoveryRetryInterval: 7, jwksRefreshInterval: 300, jwksMinRefetchInterval: 30 },
      { http, clock: new ManualClock(), log, metrics },
    );
    assert.equal(await registry.primary.attempt(), true);
    assert.deepEqual(registry.primary.metadata, { ...endpoints, issuer });
    assert.equal(await counter(metrics.discovery, { result: 'ok' }), 1);
  });

  test('provider down at start, then up: ready after the next attempt; not ready meanwhile', async () => {
    await op.stop();
    const metrics = createMetrics(false);
    const { log, lines } = capturingLogger();
    const sched = new ManualSchedule();
    const registry = new IssuerRegistry(
      { oidcProvider: op.issuer, jwtIssuers: [], discoveryRetryInterval: 7, jwksRefreshInterval: 300, jwksMinRefetchInterval: 30 },
      { http, clock: new ManualClock(), log, metrics, schedule: sched.schedule },
    );
    try {
      registry.start();
      assert.equal(await registry.primary.attempt(), false, 'the first attempt (started by start()) fails');
      assert.equal(registry.primaryReady, false);
      assert.equal(registry.status(op.issuer).state, 'pending');
      assert.equal(sched.pending.length, 1, 'a retry is scheduled');
      assert.equal(sched.pending[0]!.delayMs, 7000);

      await sched.runNext(); // provider still down
      assert.equal(registry.primaryReady, false);
      assert.equal(sched.pending.length, 1);

      await op.restart();
      assert.equal(registry.primaryReady, false, 'nothing changes before the next attempt');
      await sched.runNext();
      assert.equal(registry.primaryReady, true);
      assert.equal((await registry.primary.ready).issuer, op.issuer);
      assert.equal(registry.status(op.issuer).state, 'ready');
      assert.equal(sched.pending.length, 0, 'no more retries once discovered');
      assert.equal(await counter(metrics.discovery, { result: 'error' }), 2);
      assert.equal(await counter(metrics.discovery, { result: 'ok' }), 1);
      const warnings = lines.filter((l) => l.includes('OIDC discovery failed'));
      assert.equal(warnings.length, 2, 'each failed attempt logged once');
    } finally {
      registry.stop();
      if (!registry.primaryReady) await op.restart();
    }
  });

  test('stop() cancels the scheduled retry', async () => {
    await op.stop();
    const sched = new ManualSchedule();
    const d = new Discovery({ issuer: op.issuer, retryIntervalSeconds: 10, http, log: capturingLogger().log, schedule: sched.schedule });
    try {
      d.start();
      await d.attempt();
      assert.equal(sched.pending.length, 1);
      d.stop();
      assert.equal(sched.pending.length, 0);
    } finally {
      await op.restart();
    }
  });

  test('registry: unknown issuers, extra issuers, duplicates', () => {
    const registry = new IssuerRegistry(
      {
        oidcProvider: op.issuer,
        jwtIssuers: ['https://other.example', op.issuer],
        discoveryRetryInterval: 10,
        jwksRefreshInterval: 300,
        jwksMinRefetchInterval: 30,
      },
      { http, clock: new ManualClock(), log: capturingLogger().log },
    );
    assert.deepEqual(registry.issuers, [op.issuer, 'https://other.example']);
    assert.equal(registry.status('https://nobody.example').state, 'unknown');
    assert.equal(registry.status('https://other.example').state, 'pending');
  });

  test('discovery URL and document checks', () => {
    assert.equal(discoveryUrl('https://idp.example/realms/x/'), 'https://idp.example/realms/x/.well-known/openid-configuration');
    assert.equal(discoveryUrl('https://idp.example'), 'https://idp.example/.well-known/openid-configuration');
    const iss = 'https://idp.example';
    const code = (doc: unknown): string => {
      try {
        parseMetadata(doc, iss);
        return 'ok';
      } catch (e) {
        return (e as DiscoveryError).code;
      }
    };
    assert.equal(code({ issuer: iss, jwks_uri: 'https://idp.example/keys' }), 'ok');
    assert.equal(code([]), 'invalid-document');
    assert.equal(code({ jwks_uri: 'https://idp.example/keys' }), 'invalid-document');
    assert.equal(code({ issuer: iss }), 'invalid-document');
    assert.equal(code({ issuer: iss, jwks_uri: 'file:///etc/passwd' }), 'invalid-document');
    assert.equal(code({ issuer: iss, jwks_uri: 42 }), 'invalid-document');
    assert.equal(code({ issuer: `${iss}/`, jwks_uri: 'https://idp.example/keys' }), 'issuer-mismatch');
  });
});
