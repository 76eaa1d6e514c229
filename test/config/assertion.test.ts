/**
 * The ASSERTION_* settings: the issuer derived from an absolute prefix or redirect URL (and
 * required otherwise), the TTL bounds, audiences as host=audience pairs, claim names checked, the
 * header refused where it clashes with another identity header, the refresh bounded by the rotation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { base, noFiles, problems } from '../helpers/config.js';

const load = (env: Record<string, string>) => loadConfig({ env: { ...base, ...env }, readFile: noFiles }).config;
const on = { ASSERTION_HEADER: 'X-Identity-Assertion' };

describe('ASSERTION_* settings', () => {
  it('off by default; the issuer comes from an absolute AUTHSERVICE_URL_PREFIX or REDIRECT_URL', () => {
    const c = load({});
    assert.equal(c.assertionHeader, '');
    assert.equal(c.assertionTtl, 60);
    assert.equal(c.assertionAlgorithm, 'ES256');
    assert.equal(load({ ...on, AUTHSERVICE_URL_PREFIX: 'https://apps.example.com/authservice/' }).assertionIssuer, 'https://apps.example.com/authservice');
    assert.equal(load({ ...on, REDIRECT_URL: 'https://apps.example.com/authservice/oidc/callback' }).assertionIssuer, 'https://apps.example.com/authservice');
    assert.equal(load({ ...on, ASSERTION_ISSUER: 'https://judge.example.com' }).assertionIssuer, 'https://judge.example.com');
  });

  it('refuses what cannot work, naming the setting', () => {
    assert.deepEqual(
      problems(() => load(on)),
      ['ASSERTION_ISSUER: required (an absolute URL) when AUTHSERVICE_URL_PREFIX and REDIRECT_URL are paths'],
    );
    const issuer = { ...on, ASSERTION_ISSUER: 'https://judge.example.com' };
    assert.match(problems(() => load({ ...issuer, ASSERTION_TTL: '601' })).join('\n'), /ASSERTION_TTL: must be between 5 and 600/);
    assert.match(problems(() => load({ ...issuer, ASSERTION_CLAIMS: '__proto__' })).join('\n'), /ASSERTION_CLAIMS/);
    assert.match(
      problems(() => load({ ...issuer, ASSERTION_HEADER: 'kubeflow-userid' })).join('\n'),
      /ASSERTION_HEADER: "kubeflow-userid" already carries another identity value/,
    );
    assert.match(problems(() => load({ ...issuer, ASSERTION_HEADER: 'bad header' })).join('\n'), /ASSERTION_HEADER: not a valid header name/);
    assert.match(
      problems(() => load({ ...issuer, ASSERTION_KEY_ROTATION: '60', ASSERTION_KEY_REFRESH: '30' })).join('\n'),
      /ASSERTION_KEY_REFRESH: must be less than half/,
    );
    assert.match(
      problems(() => load({ ...issuer, ASSERTION_AUDIENCES: 'no-equals' })).join('\n'),
      /ASSERTION_AUDIENCES: entry "no-equals" must look like host=audience/,
    );
  });

  it('a skip rule may ask for the assertion (assertion: true); anything but a boolean is refused', () => {
    const c = load({ ...on, ASSERTION_ISSUER: 'https://j', SKIP_RULES: '[{"path":{"prefix":"/public"},"assertion":true},{"path":{"prefix":"/open"}}]' });
    assert.deepEqual(
      c.skipRules.map((r) => r.assertion),
      [true, undefined],
    );
    assert.match(problems(() => load({ SKIP_RULES: '[{"path":{"prefix":"/p"},"assertion":"yes"}]' })).join('\n'), /assertion: must be true or false/);
  });

  it('audiences per host or route, lower-cased hosts (paths as written); a list of claims', () => {
    const c = load({
      ...on,
      ASSERTION_ISSUER: 'https://j',
      ASSERTION_AUDIENCES: 'Apps.Example.com=urn:apps, api.example.com=https://api, Apps.Example.com/Reports=urn:reports',
      ASSERTION_CLAIMS: 'name,org.team',
    });
    assert.deepEqual(c.assertionAudiences, { 'apps.example.com': 'urn:apps', 'api.example.com': 'https://api', 'apps.example.com/Reports': 'urn:reports' });
    assert.deepEqual(c.assertionClaims, ['name', 'org.team']);
  });
});
