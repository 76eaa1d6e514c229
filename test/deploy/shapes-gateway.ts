/**
 * Shapes of the Gateway API and Envoy Gateway resources in examples/envoy-gateway/, for which no
 * model package is installed: every field named, unknown keys are errors. Field names from the
 * Gateway API reference (HTTPRoute gateway.networking.k8s.io/v1, ReferenceGrant v1beta1) and Envoy
 * Gateway's API types (envoyproxy/gateway `api/v1alpha1/`: `ext_auth_types.go`, `pathsettings_types.go`,
 * `policy_helpers.go`, `BackendCluster` in `shared_types.go`; read at d32f282, 2026-08) — every field
 * of `extAuth` and `path`, the other resources only as far as a judge configuration needs.
 */
import type { JsonSchema } from './json-schema.js';

const str = { type: 'string' };
const bool = { type: 'boolean' };
const port = { type: 'integer', minimum: 1, maximum: 65535 };
const strs = { type: 'array', items: str };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});
const list = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
const duration = { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' };
const meta = obj(
  { name: str, namespace: str, labels: { type: 'object', additionalProperties: str }, annotations: { type: 'object', additionalProperties: str } },
  ['name'],
);
const resource = (apiVersion: string, spec: JsonSchema): JsonSchema =>
  obj({ apiVersion: { type: 'string', enum: [apiVersion] }, kind: str, metadata: meta, spec }, ['apiVersion', 'kind', 'metadata', 'spec']);

/** A Service (or Backend) reference: Gateway API `BackendObjectReference` plus a route's `weight`. */
const backendRef = obj({ group: str, kind: str, name: str, namespace: str, port, weight: { type: 'integer', minimum: 0 } }, ['name']);
const targetRef = obj({ group: str, kind: { type: 'string', enum: ['Gateway', 'HTTPRoute', 'GRPCRoute'] }, name: str, sectionName: str }, [
  'group',
  'kind',
  'name',
]);
const headerMatch = obj({ type: { type: 'string', enum: ['Exact', 'RegularExpression'] }, name: str, value: str }, ['name', 'value']);

const httpRoute = resource(
  'gateway.networking.k8s.io/v1',
  obj({
    parentRefs: list(obj({ group: str, kind: str, namespace: str, name: str, sectionName: str, port }, ['name'])),
    hostnames: strs,
    rules: list(
      obj({
        name: str,
        matches: list(
          obj({
            path: obj({ type: { type: 'string', enum: ['Exact', 'PathPrefix', 'RegularExpression'] }, value: str }),
            headers: list(headerMatch),
            method: str,
          }),
        ),
        backendRefs: list(backendRef),
        timeouts: obj({ request: duration, backendRequest: duration }),
      }),
    ),
  }),
);

const referenceGrant = resource(
  'gateway.networking.k8s.io/v1beta1',
  obj(
    {
      from: list(obj({ group: str, kind: str, namespace: str }, ['group', 'kind', 'namespace'])),
      to: list(obj({ group: str, kind: str, name: str }, ['group', 'kind'])),
    },
    ['from', 'to'],
  ),
);

/** `BackendCluster`, inlined in `grpc` and `http`: `backendRef` is the deprecated single form. */
const backendCluster = { backendRef, backendRefs: list(backendRef), backendSettings: { type: 'object' } };
const errorStatus = { type: 'integer', minimum: 400, maximum: 599 };

/** `extAuth` of a SecurityPolicy: `grpc` or `http` (never both: the test checks that, as the CRD does). */
const extAuth: JsonSchema = {
  ...obj({
    grpc: obj(backendCluster),
    http: obj({ ...backendCluster, path: str, pathOverride: str, headersToBackend: strs }),
    headersToExtAuth: strs,
    bodyToExtAuth: obj({ maxRequestBytes: { type: 'integer', minimum: 1 } }, ['maxRequestBytes']),
    timeout: duration,
    failOpen: bool,
    recomputeRoute: bool,
    includeRouteMetadata: bool,
    contextExtensions: list({ type: 'object' }),
    statusOnError: errorStatus,
  }),
  anyOf: [{ required: ['grpc'] }, { required: ['http'] }],
};

const securityPolicy = resource('gateway.envoyproxy.io/v1alpha1', obj({ targetRefs: list(targetRef), extAuth }, ['targetRefs', 'extAuth']));

const clientTrafficPolicy = resource(
  'gateway.envoyproxy.io/v1alpha1',
  obj(
    {
      targetRefs: list(targetRef),
      path: obj({
        escapedSlashesAction: { type: 'string', enum: ['KeepUnchanged', 'RejectRequest', 'UnescapeAndRedirect', 'UnescapeAndForward'] },
        disableMergeSlashes: bool,
      }),
    },
    ['targetRefs'],
  ),
);

/** By `apiVersion kind`. */
export const gatewayShapes: Readonly<Record<string, JsonSchema>> = {
  'gateway.networking.k8s.io/v1 HTTPRoute': httpRoute,
  'gateway.networking.k8s.io/v1beta1 ReferenceGrant': referenceGrant,
  'gateway.envoyproxy.io/v1alpha1 SecurityPolicy': securityPolicy,
  'gateway.envoyproxy.io/v1alpha1 ClientTrafficPolicy': clientTrafficPolicy,
};
