import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/clock.js';
import { AuditTrail, fileAuditSink, type AuditEvent } from '../../../src/forward/kube-proxy/audit.js';
import { silentLogger } from '../../../src/obs/log.js';
import { send } from '../../helpers/http-send.js';
import { startKubeStack, CLIENT_ID, type KubeStack } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';

let op: TestOp;
let dir: string;
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
  dir = mkdtempSync(join(tmpdir(), 'oidc-judge-kube-audit-'));
});
after(async () => {
  await op.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Audit events logged so far (the `-` sink). */
function events(s: KubeStack): AuditEvent[] {
  return s.logs.map((l) => JSON.parse(l) as { audit?: AuditEvent }).flatMap((r) => (r.audit !== undefined ? [r.audit] : []));
}

async function untilEvents(s: KubeStack, n: number): Promise<AuditEvent[]> {
  while (events(s).length < n) await once(s.events, 'line');
  return events(s);
}

describe('kube proxy: audit events', () => {
  it('writes RequestReceived and ResponseComplete with the user, and a 401 ResponseStarted for a refused token', async () => {
    const s = await startKubeStack({ op, options: { auditLogPath: '-' } });
    try {
      await send(s.port, '/api/v1/namespaces/default/pods', {
        headers: { authorization: `Bearer ${await s.token()}`, 'user-agent': 'kubectl/v1.31', 'x-forwarded-for': '198.51.100.7' },
      });
      const ok = await untilEvents(s, 2);
      assert.deepEqual(
        ok.map((e) => [e.stage, e.responseStatus?.code]),
        [
          ['RequestReceived', undefined],
          ['ResponseComplete', 200],
        ],
      );
      const [received] = ok;
      assert.equal(received!.kind, 'Event');
      assert.equal(received!.apiVersion, 'audit.k8s.io/v1');
      assert.equal(received!.level, 'Metadata');
      assert.equal(received!.verb, 'list');
      assert.equal(received!.requestURI, '/api/v1/namespaces/default/pods');
      assert.deepEqual(received!.user, { username: 'alice@example.com', groups: ['dev', 'ops'] });
      assert.deepEqual(received!.objectRef, { resource: 'pods', namespace: 'default', apiGroup: '', apiVersion: 'v1' });
      assert.deepEqual(received!.sourceIPs, ['198.51.100.7', '127.0.0.1']);
      assert.equal(received!.userAgent, 'kubectl/v1.31');
      assert.equal(ok[1]!.auditID, received!.auditID);

      await send(s.port, '/api/v1/secrets', { headers: { authorization: 'Bearer garbage' } });
      const failed = (await untilEvents(s, 3))[2]!;
      assert.equal(failed.stage, 'ResponseStarted');
      assert.deepEqual(failed.responseStatus, { metadata: {}, code: 401, message: 'Authentication failed, attempted: bearer', status: 'Failure' });
      assert.deepEqual(failed.user, {});

      await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${await s.token()}`, 'impersonate-user': 'root' } });
      const refused = (await untilEvents(s, 5)).slice(3);
      assert.deepEqual(
        refused.map((e) => [e.stage, e.responseStatus?.code, e.responseStatus?.message]),
        [
          ['RequestReceived', undefined, undefined],
          ['ResponseComplete', 403, 'Impersonation requests are disabled when using kube-oidc-proxy'],
        ],
      );
    } finally {
      await s.close();
    }
  });

  it('adds ResponseStarted for long-running requests (a watch)', async () => {
    let held: ServerResponse | undefined;
    const fallback = (_req: IncomingMessage, res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      held = res;
    };
    const s = await startKubeStack({ op, options: { auditLogPath: '-' }, api: { fallback } });
    try {
      const req = request({ host: '127.0.0.1', port: s.port, path: '/api/v1/pods?watch=true', headers: { authorization: `Bearer ${await s.token()}` } });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const started = await untilEvents(s, 2);
      assert.deepEqual(
        started.map((e) => [e.stage, e.verb, e.responseStatus?.code]),
        [
          ['RequestReceived', 'watch', undefined],
          ['ResponseStarted', 'watch', 200],
        ],
      );
      held!.end();
      res.resume();
      await once(res, 'end');
      const all = await untilEvents(s, 3);
      assert.deepEqual([all[2]!.stage, all[2]!.responseStatus?.code], ['ResponseComplete', 200]);
    } finally {
      await s.close();
    }
  });

  it('appends JSON lines to a file and rotates it by size, keeping the configured backups', async () => {
    const path = join(dir, 'audit.log');
    const sink = fileAuditSink(path, 600 / (1024 * 1024), 2, silentLogger);
    const clock = new ManualClock();
    for (let i = 0; i < 6; i++) {
      const t = new AuditTrail(sink, clock, { auditID: `id-${i}`, requestURI: `/api/v1/pods/${i}`, verb: 'get', sourceIPs: ['10.0.0.1'], longRunning: false });
      t.received({ username: 'alice', groups: ['dev'], extra: {} });
      t.complete(200);
    }
    await sink.close();
    const lines = (p: string): AuditEvent[] =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent);
    const current = existsSync(path) ? lines(path) : [];
    const one = lines(`${path}.1`);
    const two = lines(`${path}.2`);
    assert.equal(existsSync(`${path}.3`), false);
    assert.ok(one.length > 0 && two.length > 0);
    // Newest in the live file, older in .1, older still in .2; nothing out of order.
    const ids = [...two, ...one, ...current].map((e) => `${e.auditID}:${e.stage}`);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => Number(a.split(/[-:]/)[1]) - Number(b.split(/[-:]/)[1]) || (a.endsWith('Received') ? -1 : 1)),
    );
    assert.equal(ids.at(-1), 'id-5:ResponseComplete');
    assert.equal(two[0]!.stageTimestamp, new Date(clock.now()).toISOString());
  });
});
