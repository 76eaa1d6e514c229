/**
 * kube-apiserver's reading of a request (its `RequestInfoFactory`, reduced to what audit events
 * and the long-running check need): the verb (`get`, `list`, `watch`, `create`, …) and, for
 * resource requests under `/api/v1` (core, which kube-oidc-proxy's audit missed, #161) and
 * `/apis/<group>/<version>`, the object reference.
 */

export interface ObjectRef {
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly subresource?: string;
}

export interface RequestInfo {
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly objectRef?: ObjectRef;
}

const VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function requestInfo(method: string, target: string): RequestInfo {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const nonResource = { verb: method.toLowerCase(), resourceRequest: false };
  let parts = path.split('/').filter((p) => p !== '');
  let apiGroup = '';
  let apiVersion: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiGroup = parts[1]!;
    apiVersion = parts[2]!;
    parts = parts.slice(3);
  } else return nonResource;
  let verb = VERBS[method.toUpperCase()];
  if (verb === undefined) return nonResource;
  if (parts[0] === 'watch') {
    verb = 'watch';
    parts = parts.slice(1);
  }
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = decode(parts[1]!);
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
  }
  const [resource, name, subresource] = parts.map(decode);
  if (name === undefined || name === '') {
    const watching = query.get('watch') === 'true' || query.get('watch') === '1';
    if (verb === 'get') verb = watching ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  }
  const objectRef: ObjectRef = {
    ...(resource !== undefined ? { resource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    apiGroup,
    apiVersion,
    ...(subresource !== undefined ? { subresource } : {}),
  };
  return { verb, resourceRequest: true, objectRef };
}

/** kube-apiserver's long-running check: watches and proxies, and the attach/exec/log/portforward subresources. */
export function isLongRunning(info: RequestInfo): boolean {
  return LONG_RUNNING_VERBS.has(info.verb) || LONG_RUNNING_SUBRESOURCES.has(info.objectRef?.subresource ?? '');
}
