/**
 * The operations of issue 20 through the real command (main.ts is where `OTEL_*` is read and
 * SIGHUP is wired): a wrong trace setting stops `serve` and the forwarder commands with exit 2,
 * naming it; `serve` with an OTLP endpoint sends a check's span, continued from its traceparent, to
 * a receiver started here; SIGHUP reads the config file again and refuses a broken one, saying so.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../src/paths.js';
import { send } from './helpers/http-send.js';
import { freePort } from './helpers/net.js';
import { startReceiver } from './helpers/otlp.js';

const cli = join(projectRoot, 'dist/src/cli.js');
const baseEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };
const settings = { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'judge', CLIENT_SECRET: 'super-secret-value' };

describe('oidc-judge command: traces and reload', () => {
  it('refuses a wrong OTEL_* value with exit 2, for serve and for a forwarder command', () => {
    for (const args of [['serve'], ['oidc-proxy']]) {
      const r = spawnSync(process.execPath, [cli, ...args], {
        env: { ...baseEnv, ...settings, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_SAMPLER: 'sometimes' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /OTEL_TRACES_SAMPLER: one of always_on/);
    }
  });

  it('serve: a check continues its traceparent into a span the receiver gets; SIGHUP refuses a broken config file', async () => {
    const receiver = await startReceiver();
    const dir = mkdtempSync(join(tmpdir(), 'judge-cli-operate-'));
    const configFile = join(dir, 'judge.yaml');
    writeFileSync(configFile, 'authzRules:\n  - { match: { path: /app }, allow: { authenticated: true } }\n');
    const http = await freePort();
    const child = spawn(process.execPath, [cli, 'serve', '--config', configFile], {
      env: {
        ...baseEnv,
        OIDC_PROVIDER: `http://127.0.0.1:${await freePort()}`, // nobody there: not ready, but serving
        CLIENT_ID: 'judge',
        CLIENT_SECRET: 'secret',
        SERVER_HOSTNAME: '127.0.0.1',
        SERVER_PORT: String(http),
        GRPC_PORT: String(await freePort()),
        READINESS_PROBE_PORT: String(await freePort()),
        WEB_SERVER_PORT: String(await freePort()),
        SESSION_STORE_PATH: join(dir, 'sessions.db'),
        KUBERNETES_AUTHN_ENABLED: 'false',
        DRAIN_TIMEOUT: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const until = async (text: string): Promise<void> => {
      while (!out.includes(text)) {
        const [what] = (await Promise.race([once(child.stdout, 'data').then(() => ['data']), once(child, 'exit').then(() => ['exit'])])) as [string];
        if (what === 'exit') assert.fail(`oidc-judge exited: ${out}`);
      }
    };
    try {
      await until('"msg":"listening"');
      const traceId = 'ab'.repeat(16);
      const r = await send(http, '/app', {
        headers: { host: 'app.example.com', accept: 'application/json', authorization: 'Bearer not-a-jwt', traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` },
      });
      assert.equal(r.status, 401);
      const spans = await receiver.until((all) => all.some((s) => s.traceId === traceId));
      const check = spans.find((s) => s.traceId === traceId)!;
      assert.equal(check.name, 'oidc_judge.check');
      assert.equal(check.parentId, 'cd'.repeat(8));
      assert.equal(check.attributes['http.response.status_code'], 401);

      // The watcher sees the file change and refuses it; SIGHUP reads it again and refuses it too.
      writeFileSync(configFile, 'authzRules:\n  - { match: 42 }\n');
      await until('configuration reload refused');
      child.kill('SIGHUP');
      await until('"cause":"signal"');
      const line = JSON.parse(out.split('\n').find((l) => l.includes('"cause":"signal"'))!) as Record<string, unknown>;
      assert.equal(line['msg'], 'configuration reload refused; the running configuration stays in force');
      assert.match(String(line['reason']), /authzRules/);
      assert.equal(child.exitCode, null, 'still serving');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      await receiver.close();
    }
  });
});
