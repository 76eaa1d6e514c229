/**
 * Renders helm/oidc-judge the way `helm template` does, without Helm: values.yaml coalesced with
 * the given values (maps merge, lists and scalars replace, null deletes), checked against
 * values.schema.json, then every template that does not start with `_` executed with our
 * text/template subset (gotemplate*.ts) and split into YAML documents. Values files are read as
 * YAML 1.1, as Helm's parser does (`on`/`yes` are booleans there).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { projectRoot } from '../../src/paths.js';
import { parseTemplate, type Parsed } from './gotemplate-parse.js';
import { createTemplate } from './gotemplate.js';
import { validateJson, type JsonSchema } from './json-schema.js';

export const CHART_DIR = join(projectRoot, 'helm/oidc-judge');
export const TEMPLATES_DIR = join(CHART_DIR, 'templates');

export type Values = Record<string, unknown>;

export interface Manifest {
  readonly file: string;
  readonly doc: Record<string, unknown>;
}

export interface Rendered {
  readonly manifests: readonly Manifest[];
  /** The rendered NOTES.txt. */
  readonly notes: string;
  /** The values after coalescing. */
  readonly values: Values;
}

export const readYaml11 = (text: string): unknown => parseYaml(text, { version: '1.1' });

export function chartValues(): Values {
  return readYaml11(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
}

export function valuesSchema(): JsonSchema {
  return JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as JsonSchema;
}

const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing of user values over the chart's. */
export function coalesce(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = coalesce(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

/** Every template file of the chart, parsed (throws on unbalanced or unsupported actions). */
export function parsedTemplates(): Map<string, Parsed> {
  const out = new Map<string, Parsed>();
  for (const f of readdirSync(TEMPLATES_DIR).sort()) out.set(f, parseTemplate(readFileSync(join(TEMPLATES_DIR, f), 'utf8'), `templates/${f}`));
  return out;
}

export interface RenderOptions {
  readonly releaseName?: string;
  readonly namespace?: string;
}

/** `helm template <release> helm/oidc-judge -n <namespace> -f <values>`; throws what Helm would fail with. */
export function renderChart(userValues: Values, opts: RenderOptions = {}): Rendered {
  const values = coalesce(chartValues(), userValues);
  const problems = validateJson(valuesSchema(), values);
  if (problems.length > 0) throw new Error(`values don't meet the specifications of the schema:\n${problems.join('\n')}`);
  const chart = readYaml11(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Values;
  const top = {
    Values: values,
    Release: { Name: opts.releaseName ?? 'oidc-judge', Namespace: opts.namespace ?? 'auth', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart['name'], Version: chart['version'], AppVersion: chart['appVersion'] },
  };
  const parsed = parsedTemplates();
  const tpl = createTemplate([...parsed.values()]);
  const manifests: Manifest[] = [];
  let notes = '';
  for (const [file, p] of parsed) {
    if (file.startsWith('_')) continue;
    const text = tpl.execute(p.nodes, top);
    if (file === 'NOTES.txt') {
      notes = text;
      continue;
    }
    for (const d of parseAllDocuments(text, { version: '1.1' })) {
      if (d.errors.length > 0) throw new Error(`templates/${file}: ${d.errors[0]!.message}\n${text}`);
      const doc = d.toJS() as unknown;
      if (doc === null || doc === undefined) continue;
      if (!isMap(doc)) throw new Error(`templates/${file}: a document that is not a mapping`);
      manifests.push({ file, doc });
    }
  }
  return { manifests, notes, values };
}

/** The rendered object of a kind (and name, when given); throws when absent. */
export function find(r: Rendered, kind: string, name?: string): Record<string, unknown> {
  const hit = r.manifests.find((m) => m.doc['kind'] === kind && (name === undefined || (m.doc['metadata'] as Values)['name'] === name));
  if (!hit) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered (got ${r.manifests.map((m) => m.doc['kind']).join(', ')})`);
  return hit.doc;
}
