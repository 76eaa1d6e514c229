/**
 * Regular expressions from configuration (skip-rule paths, route-rule claim patterns,
 * USERID_TRANSFORMERS) are RE2: syntax that needs backtracking — backreferences, lookaround,
 * atomic groups, possessive quantifiers, recursion — is refused at start-up with the setting named;
 * and the classic catastrophic pattern/input pairs, run by the assembled service on request paths,
 * claims and user ids, complete (sizes given; no timing is asserted).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.js';
import { accessToken, request, startJudge, testConfig, type Judged } from '../helpers/app.js';
import { startOp, type TestOp } from '../helpers/op.js';
import { API, bearer } from './kit.js';

const BACKTRACKING = ['(a)\\1', '(?=a)a', '(?!a)b', '(?<=a)b', '(?<!a)b', '(?>a+)b', 'a*+b', 'a++', '(?R)', '(?P=name)', '\\k<n>(?<n>a)'];

describe('regular expressions in configuration', () => {
  it('backtracking-only syntax is refused, naming the setting, for skip rules, claim patterns and transformers', () => {
    for (const pattern of BACKTRACKING) {
      const yamlString = JSON.stringify(pattern);
      const settings = [
        { yaml: `skipRules:\n  - { path: { regex: ${yamlString} } }\n`, name: /skipRules.*\[0\]\.path\.regex/ },
        {
          yaml: `authzRules:\n  - { match: { path: { prefix: / } }, allow: { claims: { department: ${yamlString} } } }\n`,
          name: /authzRules.*\[0\]\.allow\.claims\.department/,
        },
        { env: { USERID_TRANSFORMERS: JSON.stringify([{ matches: pattern, replaces: 'x' }]) }, name: /USERID_TRANSFORMERS.*\[0\]\.matches/ },
      ];
      for (const s of settings) {
        assert.throws(
          () => testConfig('http://127.0.0.1:9/', { ...(s.yaml ? { yaml: s.yaml } : {}), ...(s.env ? { env: s.env } : {}) }),
          (e: unknown) => e instanceof ConfigError && s.name.test(e.message),
          `${pattern} in ${s.name}`,
        );
      }
    }
  });
});

describe('pathological patterns on hostile input complete', () => {
  let op: TestOp;
  let judge: Judged;
  const N = 50_000;
  before(async () => {
    op = await startOp();
    judge = await startJudge(op.issuer, {
      yaml: [
        'skipRules:',
        '  - { path: { regex: "^/(a+)+$" } }',
        '  - { path: { regex: "^/(a|aa)*b$" } }',
        '  - { path: { regex: "^/(.*a){25}$" } }',
        'authzRules:',
        '  - { match: { path: { prefix: /claims } }, allow: { claims: { department: "(x+x+)+y" } } }',
        '  - { match: { path: { prefix: / } }, allow: { authenticated: true } }',
      ].join('\n'),
      env: {
        USERID_TRANSFORMERS: JSON.stringify([
          { matches: '(a*)*b', replaces: 'z' },
          { matches: '^(\\w+\\s?)*$', replaces: 'w' },
        ]),
      },
    });
  });
  after(async () => {
    await judge.stop();
    await op.stop();
  });

  it(`skip-rule regexes on ${N}-character paths: answered (no match → 401), and a matching path still skips`, async (t) => {
    for (const path of [`/${'a'.repeat(N)}!`, `/${'a'.repeat(N)}`, `/${'a'.repeat(N)}c`, `/${'ab'.repeat(N / 2)}`]) {
      const r = await judge.grpc.check(path, API);
      const status = r.status.code === 0 ? 200 : r.denied_response?.status?.code;
      assert.equal(status, path.endsWith('!') || path.endsWith('c') || path.includes('b') ? 401 : 200, path.slice(-10));
      assert.equal((await request(judge.app.ports.http, path, API)).status, status);
    }
    t.diagnostic(`paths of ${N + 2} characters against (a+)+$, (a|aa)*b and (.*a){25}`);
  });

  it(`claim patterns and user-id transformers on ${N / 25}-character claims (a 12 KiB token): answered`, async () => {
    const long = 'x'.repeat(N / 25);
    const token = await accessToken(op, `${'a'.repeat(N / 25)}`, ['devs'], { department: long });
    assert.equal((await judge.grpc.check('/claims/x', bearer(token))).denied_response?.status?.code, 403);
    const ok = await judge.grpc.check('/other', bearer(token));
    assert.equal(ok.status.code, 0);
    const words = await accessToken(op, `${'word '.repeat(N / 50)}!`, ['devs']);
    assert.equal((await judge.grpc.check('/other', bearer(words))).status.code, 0);
  });
});
