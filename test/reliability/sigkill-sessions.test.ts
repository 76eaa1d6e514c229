/**
 * Crash: `oidc-judge serve` (child process, SQLite sessions) is killed with SIGKILL while browsers
 * are completing logins through it. Restarted on the same file, it knows every session whose cookie
 * a browser had received before the kill — the callback commits the session before it answers —
 * and nothing else (test/sessions/sqlite-crash.test.ts covers the store alone; this is the service).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDevProvider, type DevProvider } from '../../src/demo/provider.js';
import { newSecretId } from '../../src/sessions/ticket.js';
import { request } from '../helpers/app.js';
import { startService, type ChildService } from '../helpers/child-service.js';
import { HttpBrowser } from '../helpers/http-browser.js';
import { ALICE, BOB, CALLBACK_PATH } from '../helpers/login-stack.js';
import { waitFor } from '../helpers/load.js';
import { freePort } from '../helpers/net.js';

const dir = mkdtempSync(join(tmpdir(), 'oidc-judge-kill-'));
let provider: DevProvider | undefined;
const children: ChildService[] = [];
after(async () => {
  for (const c of children) await c.stop();
  await provider?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGKILL while sessions are being written (child process)', () => {
  it('after a restart on the same SQLite file, every session a browser received is there', async (t) => {
    const port = await freePort();
    const secret = randomBytes(16).toString('base64url');
    provider = await startDevProvider({
      issuerHost: 'localhost',
      clients: [{ client_id: 'crash', client_secret: secret, redirect_uris: [`http://localhost:${port}${CALLBACK_PATH}`] }],
    });
    const env = {
      OIDC_PROVIDER: provider.issuer,
      CLIENT_ID: 'crash',
      CLIENT_SECRET: secret,
      OIDC_SCOPES: 'openid,email,groups',
      SERVER_HOSTNAME: '127.0.0.1',
      SERVER_PORT: String(port),
      GRPC_PORT: '0',
      WEB_SERVER_PORT: '0',
      READINESS_PROBE_PORT: '0',
      SESSION_STORE_PATH: join(dir, 'sessions.db'),
      KUBERNETES_AUTHN_ENABLED: 'false',
      LOG_LEVEL: 'INFO',
      LOG_DECISIONS: 'false',
      CHECK_TIMEOUT: '30000', // a callback on a busy machine can take longer than the 3 s default
    };
    const first = await startService(env);
    children.push(first);
    await waitFor(async () => (await request(first.ports.health, '/readyz', { host: '127.0.0.1' })).status === 200, 'the first service to be ready');

    // Browsers log in over and over through the judge port until the kill.
    const received: string[] = [];
    let killed = false;
    const login = async (user: typeof ALICE): Promise<void> => {
      const b = new HttpBrowser();
      const start = await b.request(`http://localhost:${port}/app`);
      const cb = await b.signInAt(start.location!, user, CALLBACK_PATH);
      const done = await b.request(cb);
      const id = b.cookie('localhost', 'authservice_session');
      if (done.status === 302 && id) received.push(id);
    };
    const worker = async (user: typeof ALICE): Promise<void> => {
      while (!killed) await login(user).catch(() => undefined);
    };
    const workers = [ALICE, BOB, ALICE, BOB].map(worker);
    await waitFor(() => received.length >= 8, 'eight completed logins');
    first.signal('SIGKILL');
    killed = true;
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    await Promise.all(workers);
    const committed = [...received];

    const second = await startService(env);
    children.push(second);
    await waitFor(async () => (await request(second.ports.health, '/readyz', { host: '127.0.0.1' })).status === 200, 'the restarted service to be ready');
    for (const id of committed) {
      const r = await request(port, '/api', { cookie: `authservice_session=${id}`, accept: 'application/json', host: `localhost:${port}` });
      assert.equal(r.status, 200, 'a session whose cookie was handed out is gone after the crash');
      assert.match(String(r.headers['kubeflow-userid']), /^(alice|bob)@example\.com$/);
    }
    assert.equal((await request(port, '/api', { cookie: `authservice_session=${newSecretId()}`, accept: 'application/json' })).status, 401);
    t.diagnostic(`${committed.length} sessions handed out before SIGKILL, all served after the restart`);
  });
});
