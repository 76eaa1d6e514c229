/**
 * The chart's structure, without a Helm binary: Chart.yaml and values.yaml valid, values.schema.json
 * exactly what scripts/helm-schema.mjs makes of the config schema (and not vacuous), every value a
 * template reads present in values.yaml, every environment variable a template sets (and every
 * setting name a template mentions) a real setting, and every template balanced and parseable.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import type { Field } from '../../src/config/field.js';
import { bool, int, oneOf, str } from '../../src/config/field.js';
import { schema } from '../../src/config/schema.js';
import { projectRoot } from '../../src/paths.js';
import { CHART_DIR, TEMPLATES_DIR, chartValues, coalesce, parsedTemplates, readYaml11, valuesSchema } from './chart.js';
import { validateJson } from './json-schema.js';

interface Generator {
  render(s: Record<string, Field<unknown>>): string;
  valuesSchema(s: Record<string, Field<unknown>>): Record<string, unknown>;
  readonly CHART_OWNED: readonly string[];
  readonly TEMPLATE_CONTEXT_PATTERN: string;
}
const generator = (await import(pathToFileURL(join(projectRoot, 'scripts/helm-schema.mjs')).href)) as Generator;

const envNames = new Set((Object.values(schema) as Field<unknown>[]).map((f) => f.env));
const templates = readdirSync(TEMPLATES_DIR)
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(TEMPLATES_DIR, f), 'utf8') }));
const values = chartValues();
const required = { config: { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'app' }, secret: { values: { CLIENT_SECRET: 's' } } };

describe('helm/oidc-judge structure', () => {
  it('Chart.yaml is a v2 application chart whose appVersion is the package version', () => {
    const chart = readYaml11(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(chart['apiVersion'], 'v2');
    assert.equal(chart['name'], 'oidc-judge');
    assert.equal(chart['type'], 'application');
    assert.match(String(chart['version']), /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.equal(chart['appVersion'], pkg.version);
  });

  it('values.schema.json is what scripts/helm-schema.mjs generates from src/config/schema.ts (run `npm run helm-schema`)', () => {
    assert.equal(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8'), generator.render(schema));
    assert.equal(generator.render(schema), generator.render(schema), 'deterministic');
  });

  it('values.yaml, the Kubeflow values and the CI scenarios validate against values.schema.json', () => {
    assert.deepEqual(validateJson(valuesSchema(), values), []);
    const extra = ['values-kubeflow.yaml', ...readdirSync(join(CHART_DIR, 'ci')).map((f) => `ci/${f}`)];
    for (const f of extra) {
      const v = coalesce(values, readYaml11(readFileSync(join(CHART_DIR, f), 'utf8')) as Record<string, unknown>);
      assert.deepEqual(validateJson(valuesSchema(), v), [], f);
    }
  });

  it('values.schema.json refuses what the service would refuse', () => {
    const bad = (over: Record<string, unknown>): string[] => validateJson(valuesSchema(), coalesce(values, coalesce(required, over)));
    assert.deepEqual(bad({}), []);
    assert.match(bad({ config: { OIDC_PROVIDR: 'x' } }).join(), /config\.OIDC_PROVIDR: not allowed/);
    assert.match(bad({ config: { CLIENT_SECRET: 'x' } }).join(), /config\.CLIENT_SECRET: not allowed/, 'secrets belong in secret.values');
    assert.match(bad({ config: { SERVER_PORT: 9000 } }).join(), /config\.SERVER_PORT: not allowed/, 'the chart owns the ports');
    assert.match(bad({ config: { LOG_LEVEL: 'loud' } }).join(), /config\.LOG_LEVEL/);
    assert.deepEqual(
      bad({ config: { LOG_LEVEL: 'debug', SESSION_SAME_SITE: 'strict', CACHE_ENABLED: 'Yes', SESSION_MAX_AGE: '3600', CLIENT_SECRET_FILE: '/s' } }),
      [],
    );
    assert.match(bad({ config: { CACHE_ENABLED: 'maybe' } }).join(), /config\.CACHE_ENABLED/);
    assert.match(bad({ config: { SESSION_MAX_AGE: 'a day' } }).join(), /config\.SESSION_MAX_AGE/);
    // WORKERS is `integer | auto`: a count, or the word in any case.
    assert.deepEqual(bad({ config: { WORKERS: 4 } }), []);
    assert.deepEqual(bad({ config: { WORKERS: 'Auto' } }), []);
    assert.deepEqual(bad({ config: { WORKERS: '2' } }), []);
    assert.match(bad({ config: { WORKERS: 'many' } }).join(), /config\.WORKERS/);
    assert.match(bad({ config: { WORKERS: true } }).join(), /config\.WORKERS/);
    assert.match(bad({ config: { CLAIMS_SOURCE: 'both', TOKEN_ENDPOINT_AUTH_METHOD: 'private_key_jwt' } }).join(), /TOKEN_ENDPOINT_AUTH_METHOD/);
    assert.deepEqual(bad({ config: { TEMPLATE_CONTEXT_LOGO: 'x.png', SKIP_RULES: [{ path: '/x' }], OIDC_SCOPES: 'openid email' } }), []);
    assert.match(bad({ store: { type: 'etcd' } }).join(), /store\.type/);
    assert.match(bad({ ports: { http: 0 } }).join(), /ports\.http/);
    assert.match(bad({ replicas: 3 }).join(), /replicas: not allowed/);
  });

  it('the generator describes any field: known kinds by their parser, unknown kinds as scalars', () => {
    const out = generator.valuesSchema({
      a: { ...bool('NEW_FLAG', 'A flag.'), group: 'x' },
      b: { ...int('NEW_COUNT', 'A count.'), group: 'x' },
      c: { ...oneOf('NEW_MODE', ['fast', 'slow'], 'A mode.'), group: 'x' },
      d: { ...str('NEW_TOKEN', 'A secret.', { secret: true }), group: 'x' },
      e: { ...str('NEW_DURATION', 'Some new kind.'), type: 'duration', group: 'x' },
    });
    const props = out['properties'] as Record<string, Record<string, unknown>>;
    const config = (props['config']!['properties'] as Record<string, Record<string, unknown>>)!;
    assert.deepEqual(Object.keys(config), ['NEW_FLAG', 'NEW_COUNT', 'NEW_MODE', 'NEW_TOKEN_FILE', 'NEW_DURATION']);
    assert.deepEqual(validateJson(config['NEW_FLAG']!, 'off'), []);
    assert.notDeepEqual(validateJson(config['NEW_FLAG']!, 'nope'), []);
    assert.deepEqual(config['NEW_MODE']!['enum'], ['fast', 'slow']);
    assert.deepEqual(config['NEW_DURATION']!['type'], ['string', 'number', 'boolean']);
    const secrets = (props['secret']!['properties'] as Record<string, Record<string, unknown>>)['values']!['properties'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(secrets), ['NEW_TOKEN']);
  });

  it('every template parses: delimiters and blocks balanced, only what the test renderer supports', () => {
    for (const { file, text } of templates) {
      assert.equal((text.match(/\{\{/g) ?? []).length, (text.match(/\}\}/g) ?? []).length, `${file}: {{ and }} counts`);
      const opens = (text.match(/\{\{-?\s*(if|range|with|define)\b/g) ?? []).length;
      const ends = (text.match(/\{\{-?\s*end\s*-?\}\}/g) ?? []).length;
      assert.equal(opens, ends, `${file}: if/range/with/define vs end`);
    }
    const parsed = parsedTemplates();
    assert.deepEqual(
      [...parsed.keys()],
      templates.map((t) => t.file),
    );
    assert.ok([...parsed.values()].some((p) => p.defines.has('oidc-judge.podTemplate')));
  });

  it('every .Values path a template reads exists in values.yaml (config keys: in the config schema)', () => {
    const missing: string[] = [];
    for (const { file, text } of templates) {
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = m[1]!.slice(1).split('.');
        if (path[0] === 'config' && path.length === 2) {
          if (!envNames.has(path[1]!)) missing.push(`${file}: .Values.${path.join('.')} is no setting`);
          continue;
        }
        let cur: unknown = values;
        for (const seg of path) {
          if (typeof cur !== 'object' || cur === null || !(seg in cur)) {
            missing.push(`${file}: .Values.${path.join('.')}`);
            break;
          }
          cur = (cur as Record<string, unknown>)[seg];
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every environment variable the templates set, and every setting name they mention, exists in the config schema', () => {
    const setByTemplates = new Set<string>();
    const mentioned = new Set<string>();
    for (const { text } of templates) {
      for (const m of text.matchAll(/^\s*- name: ([A-Z][A-Z0-9_]*)\s*$/gm)) setByTemplates.add(m[1]!);
      for (const m of text.matchAll(/"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g)) mentioned.add(m[1]!);
    }
    assert.deepEqual(
      [...setByTemplates].filter((n) => !envNames.has(n)),
      [],
    );
    assert.deepEqual(
      [...mentioned].filter((n) => !envNames.has(n)),
      [],
    );
    for (const owned of generator.CHART_OWNED) {
      assert.ok(envNames.has(owned), `${owned} is a setting`);
      assert.ok(setByTemplates.has(owned), `the chart sets ${owned} itself`);
    }
    assert.ok(new RegExp(generator.TEMPLATE_CONTEXT_PATTERN).test('TEMPLATE_CONTEXT_LOGO'));
  });
});
