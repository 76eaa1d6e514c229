/**
 * oauth2_proxy.cfg reading: the TOML subset oauth2-proxy's legacy file uses, Kubeflow's shipped
 * file read whole, and every construct outside the subset refused with its line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCfg } from '../../../src/compat/oauth2-proxy/cfg-parse.js';
import { KUBEFLOW_CFG } from './fixture.js';

const values = (text: string): Record<string, unknown> => {
  const r = parseCfg(text);
  assert.deepEqual(r.errors, []);
  return Object.fromEntries([...r.entries].map(([k, e]) => [k, e.value]));
};

describe('oauth2_proxy.cfg parsing', () => {
  it('reads strings, literal strings, booleans, integers and comments', () => {
    assert.deepEqual(values('a = "x # not a comment"  # a comment\nb = \'C:\\\\raw\'\nc = true\nd=false\ne = 0\n\n# only a comment\n'), {
      a: 'x # not a comment',
      b: 'C:\\\\raw',
      c: true,
      d: false,
      e: 0,
    });
  });

  it('reads escapes in basic strings', () => {
    assert.deepEqual(values('a = "q\\"uote\\\\ tab\\t \\u00e9"'), { a: 'q"uote\\ tab\t é' });
  });

  it('reads arrays over several lines, with comments and a trailing comma', () => {
    assert.deepEqual(values('routes = [\n  # why\n  "^/dex/",\n  "GET=^/public$", # inline\n]\nempty = []\none = [ "*" ]'), {
      routes: ['^/dex/', 'GET=^/public$'],
      empty: [],
      one: ['*'],
    });
  });

  it("reads Kubeflow's shipped oauth2_proxy.cfg whole", () => {
    const r = parseCfg(readFileSync(KUBEFLOW_CFG, 'utf8'));
    assert.deepEqual(r.errors, []);
    const v = Object.fromEntries([...r.entries].map(([k, e]) => [k, e.value]));
    assert.equal(v['provider'], 'oidc');
    assert.equal(v['oidc_issuer_url'], 'http://dex.auth.svc.cluster.local:5556/dex');
    assert.deepEqual(v['email_domains'], ['*']);
    assert.deepEqual(v['upstreams'], ['static://200']);
    assert.deepEqual(v['skip_auth_routes'], ['^/dex/']);
    assert.deepEqual(v['api_routes'], ['/api/', '/apis/', '^/ml_metadata']);
    assert.equal(v['set_authorization_header'], true);
    assert.equal(v['cookie_refresh'], 0);
    assert.equal(v['relative_redirect_url'], true);
    assert.equal(r.entries.get('provider')?.line, 3);
  });

  it('refuses what is outside the subset, naming the line, and keeps reading', () => {
    const r = parseCfg(
      'a = "x"\n[table]\nb = 1979-05-27\nc = "unterminated\nd = [ [ "nested" ] ]\ne = """multi"""\nf = "ok"\na = "again"\ng = "x" junk\nh\n',
      'my.cfg',
    );
    assert.deepEqual(r.errors, [
      'my.cfg:2: tables ([section]) are not part of oauth2_proxy.cfg',
      'my.cfg:3: expected a "string", true, false, an integer or an [ array ]',
      'my.cfg:4: unterminated string',
      'my.cfg:5: nested arrays are not supported',
      'my.cfg:6: multi-line strings are not supported',
      'my.cfg:8: a is set twice (first on line 1)',
      'my.cfg:9: unexpected text after the value',
      'my.cfg:10: expected key = value',
    ]);
    assert.equal(r.entries.get('f')?.value, 'ok');
  });
});
