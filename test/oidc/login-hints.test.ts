import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hintsOf, MAX_HINT } from '../../src/oidc/login-params.js';

describe('login start: login_hint and domain_hint', () => {
  it('passes printable hints of bounded length, from before a verbatim rd', () => {
    assert.deepEqual(hintsOf('login_hint=alice%40example.com&domain_hint=contoso.com'), { loginHint: 'alice@example.com', domainHint: 'contoso.com' });
    assert.deepEqual(hintsOf('login_hint=J%C3%BCrgen&rd=/x'), { loginHint: 'Jürgen' });
    // nginx's unencoded rd runs to the end of the query: a login_hint inside it is the original URL's.
    assert.deepEqual(hintsOf('rd=https://app.example.com/x?login_hint=mallory'), {});
    assert.deepEqual(hintsOf('domain_hint=a.example&rd=https://app.example.com/x?login_hint=mallory'), { domainHint: 'a.example' });
  });

  it('drops a hint that is empty, too long or carries control characters', () => {
    assert.deepEqual(hintsOf(''), {});
    assert.deepEqual(hintsOf('login_hint='), {});
    assert.deepEqual(hintsOf('login_hint=%20%20'), {});
    assert.deepEqual(hintsOf(`login_hint=${'a'.repeat(MAX_HINT + 1)}`), {});
    assert.deepEqual(hintsOf(`login_hint=${'a'.repeat(MAX_HINT)}`), { loginHint: 'a'.repeat(MAX_HINT) });
    assert.deepEqual(hintsOf('login_hint=a%0Db'), {});
    assert.deepEqual(hintsOf('login_hint=a%00b&domain_hint=x%C2%85y'), {});
  });

  it('passes acr_values and max_age for a fixed login URL (nginx error_page on a step-up route)', () => {
    assert.deepEqual(hintsOf('acr_values=urn%3Amfa+phr&max_age=300&rd=/billing'), { acrValues: ['urn:mfa', 'phr'], maxAge: 300 });
    assert.deepEqual(hintsOf('acr_values=a%22b&max_age=5m'), {}, 'a quote in a value, a max_age that is not seconds');
    assert.deepEqual(hintsOf('acr_values=a++b'), {}, 'an empty value');
    assert.deepEqual(hintsOf('max_age=0'), { maxAge: 0 });
    assert.deepEqual(hintsOf('max_age=-1&acr_values='), {});
  });
});
