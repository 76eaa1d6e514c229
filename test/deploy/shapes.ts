/**
 * Shapes of the configuration no model package covers, as JSON schemas with every field named
 * (unknown keys are errors): Istio's MeshConfig extension providers (istio/api
 * mesh/v1alpha1/config.proto), Envoy's ext_authz v3 filter config inside an EnvoyFilter, Emissary's
 * AuthService and Mapping (getambassador.io/v3alpha1), the Prometheus Operator's ServiceMonitor and
 * Traefik's file-provider routers and services. Field lists from the upstream definitions (see
 * shared/reference/ext-authz-protocols.md §4.3, §3.6, §5).
 */
import type { JsonSchema } from './json-schema.js';

const str = { type: 'string' };
const bool = { type: 'boolean' };
const int = { type: 'integer' };
const strs = { type: 'array', items: str };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});
const duration = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$' };
const statusCode = { type: 'string', pattern: '^[1-5][0-9][0-9]$' };
const body = obj({ maxRequestBytes: int, allowPartialMessage: bool, packAsBytes: bool });

export const meshConfigShape: JsonSchema = obj(
  {
    pathNormalization: obj({ normalization: { type: 'string', enum: ['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] } }, [
      'normalization',
    ]),
    extensionProviders: {
      type: 'array',
      items: {
        anyOf: [
          obj(
            {
              name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
              envoyExtAuthzGrpc: obj(
                {
                  service: str,
                  port: { type: 'integer', minimum: 1, maximum: 65535 },
                  timeout: duration,
                  failOpen: bool,
                  clearRouteCache: bool,
                  statusOnError: statusCode,
                  includeRequestBodyInCheck: body,
                },
                ['service', 'port'],
              ),
            },
            ['name', 'envoyExtAuthzGrpc'],
          ),
          obj(
            {
              name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
              envoyExtAuthzHttp: obj(
                {
                  service: str,
                  port: { type: 'integer', minimum: 1, maximum: 65535 },
                  timeout: duration,
                  pathPrefix: { type: 'string', pattern: '^/' },
                  failOpen: bool,
                  clearRouteCache: bool,
                  statusOnError: statusCode,
                  includeHeadersInCheck: strs,
                  includeRequestHeadersInCheck: strs,
                  includeAdditionalHeadersInCheck: { type: 'object', additionalProperties: str },
                  includeRequestBodyInCheck: body,
                  headersToUpstreamOnAllow: strs,
                  headersToDownstreamOnDeny: strs,
                  headersToDownstreamOnAllow: strs,
                },
                ['service', 'port'],
              ),
            },
            ['name', 'envoyExtAuthzHttp'],
          ),
        ],
      },
    },
  },
  ['extensionProviders'],
);

const matchers = obj({ patterns: { type: 'array', items: obj({ exact: str, prefix: str, suffix: str, contains: str, ignore_case: bool }) } });

/** `patch.value` of an EnvoyFilter inserting envoy.filters.http.ext_authz (v3). */
export const extAuthzFilterShape: JsonSchema = obj(
  {
    name: { type: 'string', enum: ['envoy.filters.http.ext_authz'] },
    typed_config: obj(
      {
        '@type': { type: 'string', enum: ['type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'] },
        transport_api_version: { type: 'string', enum: ['V3'] },
        failure_mode_allow: bool,
        status_on_error: obj({ code: { type: 'string', enum: ['ServiceUnavailable', 'Forbidden', 'InternalServerError'] } }),
        clear_route_cache: bool,
        grpc_service: obj({ envoy_grpc: obj({ cluster_name: str, authority: str }, ['cluster_name']), timeout: duration }, ['envoy_grpc']),
        http_service: obj(
          {
            server_uri: obj({ uri: str, cluster: str, timeout: duration }, ['uri', 'cluster', 'timeout']),
            path_prefix: str,
            authorization_request: obj({ allowed_headers: matchers, headers_to_add: { type: 'array' } }),
            authorization_response: obj({
              allowed_upstream_headers: matchers,
              allowed_upstream_headers_to_append: matchers,
              allowed_client_headers: matchers,
              allowed_client_headers_on_success: matchers,
            }),
          },
          ['server_uri'],
        ),
      },
      ['@type', 'transport_api_version'],
    ),
  },
  ['name', 'typed_config'],
);

/** `patch.value` of an EnvoyFilter merging path normalization into the HTTP connection manager (v3). */
export const hcmNormalizationShape: JsonSchema = obj(
  {
    typed_config: obj(
      {
        '@type': { type: 'string', enum: ['type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'] },
        normalize_path: bool,
        merge_slashes: bool,
        path_with_escaped_slashes_action: {
          type: 'string',
          enum: ['IMPLEMENTATION_SPECIFIC_DEFAULT', 'KEEP_UNCHANGED', 'REJECT_REQUEST', 'UNESCAPE_AND_REDIRECT', 'UNESCAPE_AND_FORWARD'],
        },
      },
      ['@type'],
    ),
  },
  ['typed_config'],
);

/** Traefik's static configuration: the entry points' HTTP options that decide which path is routed and checked. */
export const traefikStaticShape: JsonSchema = obj(
  {
    entryPoints: {
      type: 'object',
      additionalProperties: obj({ address: str, http: obj({ sanitizePath: bool, middlewares: strs, encodeQuerySemicolons: bool, maxHeaderBytes: int }) }, [
        'address',
      ]),
    },
  },
  ['entryPoints'],
);

const meta = obj(
  { name: str, namespace: str, labels: { type: 'object', additionalProperties: str }, annotations: { type: 'object', additionalProperties: str } },
  ['name'],
);

export const ambassadorShapes: Readonly<Record<string, JsonSchema>> = {
  AuthService: obj(
    {
      apiVersion: { type: 'string', enum: ['getambassador.io/v3alpha1'] },
      kind: str,
      metadata: meta,
      spec: obj(
        {
          ambassador_id: strs,
          auth_service: str,
          path_prefix: str,
          tls: { type: ['boolean', 'string'] },
          proto: { type: 'string', enum: ['http', 'grpc'] },
          timeout_ms: int,
          allowed_request_headers: strs,
          allowed_authorization_headers: strs,
          add_auth_headers: { type: 'object', additionalProperties: str },
          allow_request_body: bool,
          include_body: obj({ max_bytes: int, allow_partial: bool }),
          status_on_error: obj({ code: int }),
          failure_mode_allow: bool,
          protocol_version: { type: 'string', enum: ['v2', 'v3'] },
          add_linkerd_headers: bool,
          stats_name: str,
          circuit_breakers: { type: 'array' },
        },
        ['auth_service'],
      ),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  Mapping: obj(
    {
      apiVersion: { type: 'string', enum: ['getambassador.io/v3alpha1'] },
      kind: str,
      metadata: meta,
      spec: obj({ ambassador_id: strs, hostname: str, prefix: str, prefix_regex: bool, rewrite: str, service: str, timeout_ms: int, bypass_auth: bool }, [
        'prefix',
        'service',
      ]),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
  /** The `ambassador` Module: only the keys that decide which path Envoy checks and forwards. */
  Module: obj(
    {
      apiVersion: { type: 'string', enum: ['getambassador.io/v3alpha1'] },
      kind: str,
      metadata: obj({ name: { type: 'string', enum: ['ambassador'] }, namespace: str }, ['name']),
      spec: obj({ ambassador_id: strs, config: obj({ merge_slashes: bool, reject_requests_with_escaped_slashes: bool, strip_matching_host_port: bool }) }, [
        'config',
      ]),
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  ),
};

export const serviceMonitorShape: JsonSchema = obj(
  {
    apiVersion: { type: 'string', enum: ['monitoring.coreos.com/v1'] },
    kind: str,
    metadata: meta,
    spec: obj(
      {
        selector: obj({ matchLabels: { type: 'object', additionalProperties: str } }),
        namespaceSelector: { type: 'object' },
        jobLabel: str,
        endpoints: { type: 'array', items: obj({ port: str, path: str, interval: duration, scheme: str, scrapeTimeout: duration }, ['port']) },
      },
      ['selector', 'endpoints'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

/** Traefik's dynamic configuration (file provider) minus the middlewares, which the Middleware CRD model checks. */
export const traefikRoutingShape: JsonSchema = obj({
  routers: {
    type: 'object',
    additionalProperties: obj({ rule: str, middlewares: strs, service: str, entryPoints: strs, priority: int, tls: { type: 'object' } }, ['rule', 'service']),
  },
  services: {
    type: 'object',
    additionalProperties: obj({
      loadBalancer: obj({ servers: { type: 'array', items: obj({ url: { type: 'string', pattern: '^https?://' } }, ['url']) }, passHostHeader: bool }, [
        'servers',
      ]),
    }),
  },
  middlewares: { type: 'object' },
});
