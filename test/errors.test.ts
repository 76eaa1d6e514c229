import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/config/load.js';
import { END, START, withErrorTables } from '../src/errors-docs.js';
import { DENY_REASONS, ERROR_CODES, JudgeError, loggedReason, type DenyEntry } from '../src/errors.js';
import { deny } from '../src/judge/decision.js';
import { rpcCodeFor, RpcCode } from '../src/judge/grpc/map.js';
import { HttpClientError } from '../src/net/http-client.js';
import { DiscoveryError } from '../src/oidc/discovery.js';
import { KeysUnavailableError } from '../src/oidc/keys.js';
import { projectRoot } from '../src/paths.js';
import { StoreUnavailableError } from '../src/sessions/store.js';
import { TemplateError } from '../src/web/template-parse.js';

/** The page that holds the generated "Error and deny codes" section. */
const readme = (): string => readFileSync(join(projectRoot, 'docs', 'errors.md'), 'utf8');

/** The codes in the first column of the generated section. */
function documentedCodes(text: string): Set<string> {
  const section = text.slice(text.indexOf(START), text.indexOf(END));
  return new Set([...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
}

describe('error and deny code catalogue', () => {
  it('docs/errors.md "Error and deny codes" is the section generated from the catalogue (run `npm run docs`)', () => {
    const text = readme();
    assert.ok(text.includes(START), 'docs/errors.md holds the error-codes markers');
    assert.equal(text, withErrorTables(text), 'docs/errors.md is out of date: run `npm run docs`');
  });

  it('documents every deny reason and every error code in docs/errors.md, naming a missing one', () => {
    const documented = documentedCodes(readme());
    for (const code of [...Object.keys(DENY_REASONS), ...Object.keys(ERROR_CODES)]) {
      assert.ok(documented.has(code), `code ${code} is not documented in docs/errors.md "Error and deny codes" (run \`npm run docs\`)`);
    }
    for (const [code, e] of [...Object.entries(DENY_REASONS), ...Object.entries(ERROR_CODES)]) assert.ok(e.meaning.length > 10, `code ${code} needs a meaning`);
  });

  it('catches a code missing from docs/errors.md by its name', () => {
    const text = readme().replace(/^\| `logout-no-session` \|.*\n/m, '');
    assert.ok(!documentedCodes(text).has('logout-no-session'));
    assert.ok(documentedCodes(text).has('logout-unavailable'));
  });

  it('names only what exists: every deny reason and error code is used in src/', () => {
    const sources = readdirSync(join(projectRoot, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== 'errors.ts' && f !== 'errors-docs.ts')
      .map((f) => readFileSync(join(projectRoot, 'src', f), 'utf8'))
      .join('\n');
    for (const code of [...Object.keys(DENY_REASONS), ...Object.keys(ERROR_CODES)])
      assert.ok(sources.includes(`'${code}'`), `code ${code} is used nowhere in src/`);
  });

  it('gives each status of a deny reason the gRPC code the gRPC front door sends with it', () => {
    for (const [reason, e] of Object.entries(DENY_REASONS) as [string, DenyEntry][]) {
      for (const [status, name] of Object.entries(e.http)) assert.equal(rpcCodeFor(Number(status)), RpcCode[name], `${reason} ${status}`);
    }
  });

  it('takes only catalogue reasons, each with one of its statuses', () => {
    assert.equal(deny(403, 'forbidden', '').reason, 'forbidden');
    // @ts-expect-error a reason not in the catalogue
    deny(403, 'forbiden', '');
    // @ts-expect-error a status the catalogue does not list for the reason
    deny(401, 'forbidden', '');
  });

  it('logs a reason with a detail as `<code>:<detail>`, else the code alone', () => {
    assert.equal(loggedReason('forbidden', undefined), 'forbidden');
    assert.equal(loggedReason('login-failed', 'expired-state'), 'login-failed:expired-state');
  });

  it('gives every error class its catalogue code, under the class name the catalogue gives', () => {
    const errors: JudgeError[] = [
      new ConfigError(['OIDC_PROVIDER is required']),
      new TemplateError('page.html', 3, 'unclosed action'),
      new StoreUnavailableError('redis unavailable: down'),
      new KeysUnavailableError('https://idp.example/jwks'),
      new DiscoveryError('issuer-mismatch', 'the document names another issuer'),
      new HttpClientError('timeout', 'GET https://idp.example/: no answer within 5 ms'),
    ];
    for (const e of errors) {
      assert.ok(e instanceof JudgeError && e instanceof Error);
      assert.equal(ERROR_CODES[e.code].class, e.name, e.code);
    }
    assert.equal(errors[0]!.message, 'invalid configuration:\n  - OIDC_PROVIDER is required', 'messages are kept');
    assert.equal(errors[2]!.code, 'store-unavailable');
  });
});
