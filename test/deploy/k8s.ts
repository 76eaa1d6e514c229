/**
 * Validates Kubernetes objects against the real resource schemas: `kubernetes-models` for the
 * built-in kinds, `@kubernetes-models/istio` and `@kubernetes-models/traefik` for those CRDs.
 *
 * Those schemas, like the API server's, accept unknown fields, so a misspelt field (`readinesProbe`)
 * would pass. `unknownFields` finds them by probing: it replaces one field at a time with a value
 * no typed schema accepts and sees whether the validator complains at that path; a field the
 * schema does not know draws no complaint. Free-form fields (an EnvoyFilter patch value) are
 * listed in FREE_FORM and not descended into.
 *
 * The packages are the last releases whose engines cover Node 20.19 (newer ones declare
 * `node >=22`, and `npm ci` warns on every machine we support). Their schemas predate two things
 * our manifests use, bridged here in the open: Istio's `networking.istio.io/v1`, which Istio 1.22
 * promoted unchanged from `v1beta1` (SAME_SCHEMA: validated as `v1beta1`), and fields newer
 * Traefik releases added (NEWER_FIELDS: their type checked here, as the schema cannot).
 */

type Model = new (data: unknown) => { validate(): void };
type Doc = Record<string, unknown>;

/** apiVersions served from the schema of another, older one the packages model. */
const SAME_SCHEMA: Readonly<Record<string, string>> = {
  'networking.istio.io/v1': 'networking.istio.io/v1beta1',
};

/** The module holding the model classes of an apiVersion. */
function modelModule(apiVersion: string): string | undefined {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (group.endsWith('istio.io')) return `@kubernetes-models/istio/${apiVersion}`;
  if (group === 'traefik.io') return `@kubernetes-models/traefik/${apiVersion}`;
  if (group === '' || group.endsWith('k8s.io') || !group.includes('.')) return `kubernetes-models/${apiVersion}`;
  return undefined;
}

/** JSON-pointer patterns (`*` = any one segment) under which anything goes. */
const FREE_FORM: Readonly<Record<string, readonly string[]>> = {
  EnvoyFilter: ['/spec/configPatches/*/patch/value'],
};

/** Fields newer than the packaged schemas, by kind: JSON pointer → the `typeof` its value must have. */
const NEWER_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Middleware: { '/spec/forwardAuth/preserveLocationHeader': 'boolean' },
};

/** The model class for a document, or undefined when no package models its kind. */
export async function modelFor(doc: Doc): Promise<Model | undefined> {
  const spec = modelModule(String(doc['apiVersion']));
  if (spec === undefined) return undefined;
  const mod = (await import(spec)) as Record<string, unknown>;
  const cls = mod[String(doc['kind'])];
  if (typeof cls !== 'function') throw new Error(`${spec} has no kind ${String(doc['kind'])}`);
  return cls as Model;
}

interface Issue {
  readonly instancePath: string;
  readonly message?: string;
}

function issues(model: Model, data: unknown): Issue[] | 'threw' {
  try {
    new model(data).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: Issue[] }).errors;
    return Array.isArray(errors) ? errors : 'threw';
  }
}

const pointer = (segs: readonly string[]): string => segs.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
const PROBE = Symbol('no typed schema accepts this');

function freeForm(kind: string, segs: readonly string[]): boolean {
  return (FREE_FORM[kind] ?? []).some((pat) => {
    const p = pat.split('/').slice(1);
    return p.length === segs.length && p.every((x, i) => x === '*' || x === segs[i]);
  });
}

/** Fields the schema does not know (`unknown field <JSON pointer>`), and newer fields of the wrong type. */
export function unknownFields(model: Model, doc: Doc): string[] {
  const unknown: string[] = [];
  const kind = String(doc['kind']);
  const walk = (node: unknown, segs: string[]): void => {
    if (freeForm(kind, segs)) return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        walk(v, [...segs, String(i)]);
      });
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    for (const key of Object.keys(node)) {
      const path = [...segs, key];
      const newer = NEWER_FIELDS[kind]?.[pointer(path)];
      if (newer !== undefined) {
        const value: unknown = (node as Record<string, unknown>)[key];
        if (typeof value !== newer) unknown.push(`${pointer(path)} must be a ${newer}`);
        continue;
      }
      const copy = structuredClone(doc);
      let parent: Record<string, unknown> = copy;
      for (const s of segs) parent = parent[s] as Record<string, unknown>;
      parent[key] = PROBE;
      const found = issues(model, copy);
      const at = pointer(path);
      const known = found === 'threw' || found.some((i) => i.instancePath === at || i.instancePath.startsWith(at + '/'));
      if (!known && !freeForm(kind, path)) unknown.push(`unknown field ${at}`);
      else walk((node as Record<string, unknown>)[key], path);
    }
  };
  walk(doc, []);
  return unknown;
}

/** Every problem of one object: schema errors, then unknown fields. [] when it is valid. */
export async function validateObject(given: Doc): Promise<string[]> {
  const apiVersion = SAME_SCHEMA[String(given['apiVersion'])];
  const doc = apiVersion === undefined ? given : { ...given, apiVersion };
  const where = `${String(doc['kind'])} ${String((doc['metadata'] as Doc | undefined)?.['name'] ?? '?')}`;
  const model = await modelFor(doc);
  if (model === undefined) return [`${where}: no model for ${String(doc['apiVersion'])}`];
  const found = issues(model, doc);
  if (found === 'threw') return [`${where}: the validator threw`];
  if (found.length > 0) return found.map((i) => `${where}: ${i.instancePath || '/'} ${i.message ?? ''}`);
  return unknownFields(model, doc).map((p) => `${where}: ${p}`);
}
