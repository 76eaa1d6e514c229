/**
 * The provider recipes of docs/providers.md are settings that work: each one loads with the real
 * loader (no ConfigError), names only settings the schema declares, and keeps the values a
 * provider insists on (Auth0's trailing slash, Dex's relative authorization URL).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Field } from '../../src/config/field.js';
import { loadConfig } from '../../src/config/load.js';
import { schema } from '../../src/config/schema.js';
import { noFiles } from '../helpers/config.js';
import { readRecipes, type Recipe, SECRET, SECRET_FILE } from '../helpers/recipes.js';
import { dexSubject } from '../helpers/shapes-dex.js';

const PROVIDERS = ['keycloak', 'entra', 'auth0', 'google', 'okta', 'dex', 'gitlab'];

/** Every environment name the schema declares: names, their `_FILE` twins for secrets, old names. */
function schemaNames(): ReadonlySet<string> {
  const names = new Set<string>();
  for (const f of Object.values(schema) as Field<unknown>[]) {
    names.add(f.env);
    if (f.secret) names.add(`${f.env}_FILE`);
    for (const old of f.legacy ?? []) names.add(old.env);
  }
  return names;
}

const load = (r: Recipe) =>
  loadConfig({
    env: r.env,
    readFile: (p) => (p === SECRET_FILE ? SECRET : r.yaml !== undefined && p === 'recipe.yaml' ? r.yaml : noFiles(p)),
    ...(r.yaml !== undefined ? { configFile: 'recipe.yaml' } : {}),
  });

describe('provider recipes (docs/providers.md)', () => {
  const recipes = readRecipes();

  it('there is one recipe per provider the page covers, and no other', () => {
    assert.deepEqual([...recipes.keys()].sort(), [...PROVIDERS].sort());
  });

  for (const name of PROVIDERS) {
    it(`${name}: names only settings the schema declares, and loads without a ConfigError or warning`, () => {
      const r = recipes.get(name);
      assert.ok(r, `no recipe ${name}`);
      const known = schemaNames();
      const unknown = Object.keys(r.env).filter((k) => !known.has(k));
      assert.deepEqual(unknown, [], `${name}: not in the schema`);
      const { config, warnings } = load(r);
      assert.deepEqual(warnings, []);
      assert.equal(config.oidcProvider, r.env['OIDC_PROVIDER']);
      assert.equal(config.clientSecret, SECRET.trimEnd());
      assert.equal(config.userIdClaim, r.env['USERID_CLAIM'] ?? 'email');
    });
  }

  it('keeps what the providers insist on: Auth0 issuer with its trailing slash, Dex login through the gateway, Google rule on hd', () => {
    const get = (n: string) => load(recipes.get(n)!).config;
    assert.equal(get('auth0').oidcProvider, 'https://example.eu.auth0.com/');
    assert.equal(get('dex').oidcAuthUrl, '/dex/auth');
    assert.equal(get('google').authzRules.length, 1);
  });

  it("the Dex subject encoder matches Dex's own documented example (user 2342749 of connector github)", () => {
    assert.equal(dexSubject('2342749', 'github'), 'CgcyMzQyNzQ5EgZnaXRodWI');
  });
});
