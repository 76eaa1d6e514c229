/**
 * The deployment files under istio/ and examples/: every YAML document, parsed as kubectl and Helm
 * read YAML (1.1), and the one check that fits each (a model package, or a shape from shapes.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { projectRoot } from '../../src/paths.js';
import { validateJson } from './json-schema.js';
import { validateObject } from './k8s.js';
import { gatewayShapes } from './shapes-gateway.js';
import {
  ambassadorShapes,
  extAuthzFilterShape,
  hcmNormalizationShape,
  meshConfigShape,
  serviceMonitorShape,
  traefikRoutingShape,
  traefikStaticShape,
} from './shapes.js';

export type Doc = Record<string, unknown>;

export interface YamlDoc {
  /** Repository-relative path. */
  readonly file: string;
  readonly doc: Doc;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

/** Every file under the given repository directories whose name ends with one of `exts`. */
export function filesUnder(dirs: readonly string[], exts: readonly string[]): string[] {
  return dirs.flatMap((d) => walk(join(projectRoot, d))).filter((p) => exts.some((e) => p.endsWith(e)));
}

export function yamlDocs(dirs: readonly string[]): YamlDoc[] {
  return filesUnder(dirs, ['.yaml', '.yml']).flatMap((path) => {
    const file = relative(projectRoot, path);
    return parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' }).map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return { file, doc: d.toJS() as Doc };
    });
  });
}

const at = (doc: Doc, ...path: (string | number)[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], doc);

/**
 * Every problem of one document. Kubernetes objects go to validateObject (plus the ext_authz shape
 * or the connection manager's path normalization inside EnvoyFilters); Emissary, ServiceMonitor,
 * a mesh config fragment, Traefik's file and static configs and the Gateway API / Envoy Gateway resources to their shapes. A document none of these recognizes is itself a problem.
 */
export async function checkDocument(d: YamlDoc): Promise<string[]> {
  const { doc, file } = d;
  const prefix = (errs: string[]): string[] => errs.map((e) => `${file}: ${e}`);
  if ('extensionProviders' in doc) return prefix(validateJson(meshConfigShape, doc));
  if ('entryPoints' in doc) return prefix(validateJson(traefikStaticShape, doc));
  if ('http' in doc && !('kind' in doc)) {
    const http = doc['http'] as Doc;
    const errs = validateJson(traefikRoutingShape, http, 'http');
    for (const [name, mw] of Object.entries((http['middlewares'] ?? {}) as Record<string, Doc>)) {
      errs.push(...(await validateObject({ apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', metadata: { name }, spec: mw })));
    }
    return prefix(errs);
  }
  const kind = String(doc['kind']);
  if (String(doc['apiVersion']).startsWith('getambassador.io/')) {
    const shape = ambassadorShapes[kind];
    return prefix(shape ? validateJson(shape, doc) : [`no shape for Emissary kind ${kind}`]);
  }
  if (kind === 'ServiceMonitor') return prefix(validateJson(serviceMonitorShape, doc));
  if (/^gateway\.(networking\.k8s\.io|envoyproxy\.io)\//.test(String(doc['apiVersion']))) {
    const shape = gatewayShapes[`${String(doc['apiVersion'])} ${kind}`];
    return prefix(shape ? validateJson(shape, doc) : [`no shape for ${String(doc['apiVersion'])} ${kind}`]);
  }
  const errs = await validateObject(doc);
  if (kind === 'EnvoyFilter') {
    ((at(doc, 'spec', 'configPatches') ?? []) as Doc[]).forEach((p, i) => {
      const shape = p['applyTo'] === 'NETWORK_FILTER' ? hcmNormalizationShape : extAuthzFilterShape;
      errs.push(...validateJson(shape, at(p, 'patch', 'value'), `configPatches[${i}].patch.value`));
    });
  }
  return prefix(errs);
}

export { at };
