import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/obs/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger('DEBUG', stream) };
}

describe('log redaction', () => {
  it('never writes tokens, cookies, secrets or Authorization values', () => {
    const { lines, log } = capture();
    log.info({ headers: { authorization: 'Bearer eyJSECRET', cookie: 'authservice_session=SESSIONVALUE', 'set-cookie': 'a=COOKIEOUT', 'x-ok': 'visible' } }, 'check');
    log.info({ config: { clientSecret: 'CLIENTSECRET', sessionStoreRedisPwd: 'REDISPWD', clientId: 'judge' } }, 'config');
    log.info({ token: 'RAWTOKEN', idToken: 'IDTOKEN', refresh_token: 'REFRESHTOKEN', tokens: { access_token: 'ACCESSTOKEN' } }, 'tokens');
    log.debug({ authorization: 'Basic QUJD', cookie: 'x=COOKIE2' }, 'flat');
    const out = lines.join('');
    for (const secret of ['eyJSECRET', 'SESSIONVALUE', 'COOKIEOUT', 'CLIENTSECRET', 'REDISPWD', 'RAWTOKEN', 'IDTOKEN', 'REFRESHTOKEN', 'ACCESSTOKEN', 'QUJD', 'COOKIE2']) {
      assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    }
    assert.ok(out.includes('visible') && out.includes('judge'), 'non-secret fields stay');
    assert.equal(lines.length, 4);
    assert.ok(out.includes('[redacted]'));
  });
});
