import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hasTable, TABLES, withTables } from '../../src/config/docs.js';
import type { Field } from '../../src/config/field.js';
import { commonBlock } from '../../src/config/forward-blocks/common.js';
import { egressBlock } from '../../src/config/forward-blocks/egress.js';
import { kubeBlock } from '../../src/config/forward-blocks/kube.js';
import { metadataBlock } from '../../src/config/forward-blocks/metadata.js';
import { verifyBlock } from '../../src/config/forward-blocks/verify.js';
import { forwardSchemas } from '../../src/config/forward-schema.js';
import { schema } from '../../src/config/schema.js';
import { parseEgressOptions } from '../../src/forward/egress/options.js';
import { parseKubeOptions } from '../../src/forward/kube-proxy/options.js';
import { parseMetadataOptions } from '../../src/forward/metadata/options.js';
import { parseVerifyOptions } from '../../src/forward/verify/options.js';
import { projectRoot } from '../../src/paths.js';
import { docPages, readPage } from '../helpers/doc-pages.js';

/** Every variable oidc-authservice reads (reference §2), which must keep working. */
const OIDC_AUTHSERVICE_VARS = [
  'OIDC_PROVIDER',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'OIDC_AUTH_URL',
  'REDIRECT_URL',
  'OIDC_SCOPES',
  'STRICT_SESSION_VALIDATION',
  'OIDC_STATE_STORE_PATH',
  'AUTHSERVICE_URL_PREFIX',
  'SKIP_AUTH_URLS',
  'AUTH_HEADER',
  'AUTH_METHOD_HEADER',
  'AUDIENCES',
  'HOMEPAGE_URL',
  'AFTER_LOGIN_URL',
  'AFTER_LOGOUT_URL',
  'VERIFY_AUTH_URL',
  'LOG_LEVEL',
  'USERID_HEADER',
  'USERID_PREFIX',
  'USERID_TRANSFORMERS',
  'GROUPS_HEADER',
  'USERID_CLAIM',
  'GROUPS_CLAIM',
  'ID_TOKEN_HEADER',
  'USERID_TOKEN_HEADER',
  'SERVER_HOSTNAME',
  'SERVER_PORT',
  'WEB_SERVER_PORT',
  'READINESS_PROBE_PORT',
  'CA_BUNDLE',
  'SESSION_STORE_TYPE',
  'SESSION_STORE_PATH',
  'SESSION_STORE_REDIS_ADDR',
  'SESSION_STORE_REDIS_PWD',
  'SESSION_STORE_REDIS_DB',
  'SESSION_MAX_AGE',
  'SESSION_SAME_SITE',
  'CLIENT_NAME',
  'THEMES_URL',
  'THEME',
  'TEMPLATE_PATH',
  'CACHE_ENABLED',
  'CACHE_EXPIRATION_MINUTES',
  'IDTOKEN_AUTHN_ENABLED',
  'KUBERNETES_AUTHN_ENABLED',
  'ACCESS_TOKEN_AUTHN_ENABLED',
  'ACCESS_TOKEN_AUTHN',
  'GROUPS_ALLOWLIST',
  'EXTERNAL_AUTHZ_URL',
];

describe('configuration docs', () => {
  it("the configuration tables in docs/ (the judge's, the forwarder commands' and each forwarders: mode's) are the ones generated from the schemas (run `npm run docs`)", () => {
    for (const page of docPages()) {
      const text = readPage(page);
      assert.equal(text, withTables(text), `${page} is out of date: run \`npm run docs\``);
    }
  });

  it("puts each generated table on exactly one page, the judge's settings on docs/configuration.md", () => {
    const pages = docPages().map((p): [string, string] => [p, readPage(p)]);
    for (const t of TABLES) {
      const on = pages.filter(([, text]) => hasTable(text, t)).map(([p]) => p);
      assert.equal(on.length, 1, `${t.name} is on ${on.length ? on.join(', ') : 'no page'}`);
    }
    assert.ok(hasTable(readPage('docs/configuration.md'), TABLES.find((t) => t.name === 'config-table')!));
  });

  it('knows every oidc-authservice variable, and documents each setting', () => {
    const envs = new Set((Object.values(schema) as Field<unknown>[]).map((f) => f.env));
    for (const v of OIDC_AUTHSERVICE_VARS) assert.ok(envs.has(v), `${v} missing from the schema`);
    for (const f of Object.values(schema) as Field<unknown>[]) assert.ok(f.doc.length > 10, `${f.env} needs a description`);
  });

  it('declares every environment variable the forwarders name, once, with a description', () => {
    const forwarder = forwardSchemas.flatMap((x) => Object.values(x));
    const declared = new Set([...forwarder, ...(Object.values(schema) as Field<unknown>[])].map((f) => f.env));
    assert.equal(new Set(forwarder.map((f) => f.env)).size, forwarder.length, 'a forwarder variable is declared twice');
    for (const f of forwarder) assert.ok(f.doc.length > 10, `${f.env} needs a description`);
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
    const named = new Set<string>();
    for (const file of files(join(projectRoot, 'src', 'forward'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/['`"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['`"]/g)) if (!m[1]!.startsWith('ERR_')) named.add(m[1]!);
    }
    assert.ok(named.has('NO_PROXY'), "the scan sees the forwarders' sources");
    assert.deepEqual(
      [...named].filter((n) => !declared.has(n)),
      [],
      'named in src/forward/ but declared in no schema (src/config/forward-schema.ts)',
    );
  });

  it('generates a README table for every forwarders: mode from its declarations, and each mode reads exactly the options it declares', () => {
    const blocks = { common: commonBlock, verify: verifyBlock, egress: egressBlock, kube: kubeBlock, metadata: metadataBlock };
    for (const [mode, fields] of Object.entries(blocks)) {
      assert.ok(
        TABLES.some((t) => t.name === `${mode}-block-table`),
        `no generated table for ${mode}`,
      );
      for (const f of Object.values(fields) as Field<unknown>[]) assert.ok(f.doc.length > 10, `${mode}.${f.env} needs a description`);
    }
    const parsers = { verify: parseVerifyOptions, egress: parseEgressOptions, kube: parseKubeOptions, metadata: parseMetadataOptions };
    for (const [mode, parse] of Object.entries(parsers)) {
      const declared = Object.keys(blocks[mode as keyof typeof parsers]);
      const errs: string[] = [];
      parse(Object.fromEntries([...declared, 'undeclaredOption'].map((k) => [k, null])), mode, errs);
      assert.deepEqual(
        errs.filter((e) => e.endsWith('unknown option')),
        [`${mode}.undeclaredOption: unknown option`],
        `${mode} reads every option it declares`,
      );
    }
  });
});
