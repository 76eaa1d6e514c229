/**
 * istio/ and examples/: every YAML document parses and validates against the real resource
 * schemas (kubernetes-models, @kubernetes-models/istio, @kubernetes-models/traefik; shapes for
 * Emissary and Istio's mesh config), and every proxy's header allow-lists are exactly what the
 * judge reads and sends (found from the code in judge-headers.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../src/paths.js';
import { validateObject } from './k8s.js';
import { at, checkDocument, filesUnder, yamlDocs, type Doc, type YamlDoc } from './manifests.js';
import { compileStrip, FOREIGN_IDENTITY_HEADERS, REWRITE_HEADERS } from '../../src/judge/strip.js';
import { denyHeaders, requestHeaders, upstreamHeaders } from './judge-headers.js';
import { JWKS_PATH } from '../../src/signing/documents.js';

const docs = yamlDocs(['istio', 'examples']);
const sorted = (xs: unknown): string[] => [...(xs as string[])].map((x) => x.toLowerCase()).sort();
const one = (pred: (d: YamlDoc) => boolean, what: string): Doc => {
  const hits = docs.filter(pred);
  assert.equal(hits.length, 1, `exactly one ${what}, found ${hits.length}`);
  return hits[0]!.doc;
};
const byName = (kind: string, name: string): Doc => one((d) => d.doc['kind'] === kind && at(d.doc, 'metadata', 'name') === name, `${kind} ${name}`);
/** Envoy StringMatchers as names: `exact`, or `prefix` as `prefix*` (ignore_case, as Istio builds them). */
const patterns = (m: unknown): string[] =>
  sorted(
    ((m as { patterns: { exact?: string; prefix?: string; ignore_case?: boolean }[] }).patterns ?? []).map(
      (p) => p.exact ?? (p.ignore_case === true ? `${p.prefix}*` : `case-sensitive ${p.prefix}`),
    ),
  );

describe('deployment manifests in istio/ and examples/', () => {
  it('has the files the README links', () => {
    const names = docs.map((d) => d.file);
    for (const f of [
      'istio/mesh-config.yaml',
      'istio/authorization-policy.yaml',
      'istio/virtual-service.yaml',
      'istio/envoy-filter-grpc.yaml',
      'istio/envoy-filter-http.yaml',
      'istio/assertion-trust.yaml',
      'examples/ambassador/authservice-http.yaml',
      'examples/ambassador/authservice-grpc.yaml',
      'examples/traefik/dynamic.yml',
      'examples/traefik/kubernetes.yaml',
      'examples/traefik/static.yml',
      'examples/ambassador/module.yaml',
      'examples/envoy-gateway/security-policy.yaml',
    ]) {
      assert.ok(names.includes(f), `${f} is missing`);
    }
  });

  for (const d of docs) {
    it(`${d.file}: ${String(d.doc['kind'] ?? Object.keys(d.doc)[0])} ${String(at(d.doc, 'metadata', 'name') ?? '')} is valid`, async () => {
      assert.deepEqual(await checkDocument(d), []);
    });
  }

  it('the checks catch a misspelt field, a bad enum, an unknown shape key and a newer field of the wrong type', async () => {
    const ap = structuredClone(byName('AuthorizationPolicy', 'oidc-judge'));
    (ap['spec'] as Doc)['action'] = 'CUSTUM';
    assert.match((await validateObject(ap)).join('\n'), /spec\/action/);
    const vs = structuredClone(byName('VirtualService', 'oidc-judge-web'));
    (vs['spec'] as Doc)['gateway'] = ['x'];
    assert.deepEqual(await validateObject(vs), ['VirtualService oidc-judge-web: unknown field /spec/gateway']);
    const ef = structuredClone(byName('EnvoyFilter', 'oidc-judge-grpc'));
    (at(ef, 'spec', 'configPatches', 0, 'patch', 'value', 'typed_config') as Doc)['transport_api_version'] = 'V2';
    assert.match((await checkDocument({ file: 'x', doc: ef })).join('\n'), /transport_api_version/);
    const mesh = structuredClone(one((d) => 'extensionProviders' in d.doc, 'mesh config'));
    (at(mesh, 'extensionProviders', 1, 'envoyExtAuthzHttp') as Doc)['headersToUpstream'] = ['x'];
    assert.match((await checkDocument({ file: 'x', doc: mesh })).join('\n'), /headersToUpstream/);
    const mw = structuredClone(byName('Middleware', 'oidc-judge'));
    (at(mw, 'spec', 'forwardAuth') as Doc)['preserveLocationHeader'] = 'yes';
    (at(mw, 'spec', 'forwardAuth') as Doc)['preserveLocationHeaders'] = true;
    assert.deepEqual(await validateObject(mw), [
      'Middleware oidc-judge: /spec/forwardAuth/preserveLocationHeader must be a boolean',
      'Middleware oidc-judge: unknown field /spec/forwardAuth/preserveLocationHeaders',
    ]);
  });

  it('every EnvoyFilter and provider speaks ext_authz v3 to the judge ports', () => {
    const mesh = one((d) => 'extensionProviders' in d.doc, 'mesh config');
    const providers = mesh['extensionProviders'] as Doc[];
    assert.deepEqual(
      providers.map((p) => [p['name'], at(p, 'envoyExtAuthzGrpc', 'port') ?? at(p, 'envoyExtAuthzHttp', 'port')]),
      [
        ['oidc-judge-grpc', 9191],
        ['oidc-judge-http', 8080],
      ],
    );
    const ap = byName('AuthorizationPolicy', 'oidc-judge');
    assert.equal(at(ap, 'spec', 'action'), 'CUSTOM');
    assert.ok(
      providers.some((p) => p['name'] === at(ap, 'spec', 'provider', 'name')),
      'the policy names a provider of the mesh config',
    );
    for (const name of ['oidc-judge-grpc', 'oidc-judge-http']) {
      const tc = at(byName('EnvoyFilter', name), 'spec', 'configPatches', 0, 'patch', 'value', 'typed_config') as Doc;
      assert.equal(tc['transport_api_version'], 'V3');
    }
    const vs = byName('VirtualService', 'oidc-judge-web');
    assert.equal(at(vs, 'spec', 'http', 0, 'match', 0, 'uri', 'prefix'), '/authservice/');
    assert.equal(at(vs, 'spec', 'http', 0, 'route', 0, 'destination', 'port', 'number'), 8082);
    const grpc = docs.filter((d) => d.doc['kind'] === 'AuthService' && at(d.doc, 'spec', 'proto') === 'grpc');
    assert.deepEqual(
      grpc.map((d) => [at(d.doc, 'spec', 'protocol_version'), at(d.doc, 'spec', 'auth_service')]),
      [['v3', 'oidc-judge.auth:9191']],
    );
  });

  it('the assertion pair trusts only the judge: one workload, the JWKS the web server publishes, principals of the same issuer', () => {
    const ra = byName('RequestAuthentication', 'judge-assertion');
    const ap = byName('AuthorizationPolicy', 'judge-assertion-only');
    assert.deepEqual(at(ra, 'spec', 'selector'), at(ap, 'spec', 'selector'), 'the same workload');
    assert.equal(at(ra, 'metadata', 'namespace'), at(ap, 'metadata', 'namespace'));
    const rule = at(ra, 'spec', 'jwtRules', 0) as Doc;
    const issuer = String(rule['issuer']);
    const jwks = new URL(String(rule['jwksUri']));
    // The web server's port and the service prefix, as the chart's Service and the default AUTHSERVICE_URL_PREFIX have them.
    assert.equal(jwks.port, '8082');
    assert.equal(jwks.pathname, `${new URL(issuer).pathname}/${JWKS_PATH}`);
    assert.deepEqual(at(rule, 'fromHeaders'), [{ name: 'X-Identity-Assertion' }]);
    assert.equal(at(ap, 'spec', 'action'), 'ALLOW');
    assert.deepEqual(at(ap, 'spec', 'rules'), [{ from: [{ source: { requestPrincipals: [`${issuer}/*`] } }] }]);
  });

  it('the HTTP allow-lists are exactly what the judge reads and sends', () => {
    const http = at(
      one((d) => 'extensionProviders' in d.doc, 'mesh config'),
      'extensionProviders',
      1,
      'envoyExtAuthzHttp',
    ) as Doc;
    assert.deepEqual(sorted(http['includeRequestHeadersInCheck']), requestHeaders());
    assert.deepEqual(sorted(http['headersToUpstreamOnAllow']), sorted(upstreamHeaders()));
    assert.deepEqual(sorted(http['headersToDownstreamOnDeny']), denyHeaders());
    assert.deepEqual(denyHeaders(), ['cache-control', 'content-type', 'location', 'retry-after', 'set-cookie', 'www-authenticate']);

    const ef = at(byName('EnvoyFilter', 'oidc-judge-http'), 'spec', 'configPatches', 0, 'patch', 'value', 'typed_config', 'http_service') as Doc;
    assert.deepEqual(patterns(at(ef, 'authorization_request', 'allowed_headers')), requestHeaders());
    assert.deepEqual(patterns(at(ef, 'authorization_response', 'allowed_upstream_headers')), sorted(upstreamHeaders()));
    assert.deepEqual(patterns(at(ef, 'authorization_response', 'allowed_client_headers')), denyHeaders());
  });

  it('Emissary, Traefik and nginx pass the same headers', () => {
    // Emissary adds these to allowed_request_headers / allowed_authorization_headers itself.
    const emissaryRequest = [
      'authorization',
      'cookie',
      'from',
      'proxy-authorization',
      'user-agent',
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-proto',
    ];
    const emissaryAuth = ['location', 'authorization', 'proxy-authenticate', 'set-cookie', 'www-authenticate'];
    const http = docs.find((d) => d.doc['kind'] === 'AuthService' && at(d.doc, 'spec', 'proto') === 'http')!.doc;
    const req = new Set([...emissaryRequest, ...sorted(at(http, 'spec', 'allowed_request_headers'))]);
    // Emissary matches request headers by exact name: the prefixes cannot be listed (README says so).
    assert.deepEqual(
      requestHeaders().filter((h) => !req.has(h) && !h.endsWith('*')),
      [],
      'request headers Emissary would not send',
    );
    const auth = new Set([...emissaryAuth, ...sorted(at(http, 'spec', 'allowed_authorization_headers'))]);
    assert.deepEqual(
      [...upstreamHeaders(), ...denyHeaders()].filter((h) => !auth.has(h)),
      [],
      'headers Emissary would drop',
    );
    assert.equal(at(http, 'spec', 'path_prefix'), '', 'a path prefix needs HTTP_CHECK_PATH_PREFIX too');

    const traefik = one((d) => d.file === 'examples/traefik/dynamic.yml', 'Traefik file config');
    const forwardAuth = at(traefik, 'http', 'middlewares', 'oidc-judge', 'forwardAuth') as Doc;
    // Traefik replaces these with the answer's: the identity, Cookie, and Authorization (echoed unless it carried a session id).
    assert.deepEqual(sorted(forwardAuth['authResponseHeaders']), sorted([...upstreamHeaders(), 'authorization']));
    // …and deletes what the regex matches (Go RE2 `(?i)` → JS flag): every spelling of the strip list, the `_` ones of the identity.
    const re = new RegExp(String(forwardAuth['authResponseHeadersRegex']).replace(/^\(\?i\)/, ''), 'i');
    const canonical = (n: string): string => n.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
    for (const n of [...compileStrip().spellings, 'x-auth-request-anything', 'x_original_whatever', 'kubeflow_userid', 'kubeflow_groups', 'auth_method'])
      assert.ok(re.test(canonical(n)), `the regex misses ${n}`);
    for (const n of [
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'x-forwarded-port',
      'cookie',
      'authorization',
      'kubeflow-userid',
      'x-request-id',
      'user-agent',
    ])
      assert.ok(!re.test(canonical(n)), `the regex deletes ${n}`);
    assert.match(String(at(traefik, 'http', 'middlewares', 'oidc-judge', 'forwardAuth', 'address')), /\/authservice\/forward-auth$/);
    const crd = byName('Middleware', 'oidc-judge');
    assert.deepEqual(at(crd, 'spec', 'forwardAuth'), {
      ...(at(traefik, 'http', 'middlewares', 'oidc-judge', 'forwardAuth') as Doc),
      address: at(crd, 'spec', 'forwardAuth', 'address'),
    });

    for (const f of filesUnder(['examples/nginx'], ['.conf.template'])) {
      const conf = readFileSync(f, 'utf8');
      for (const h of [...upstreamHeaders(), 'authorization']) {
        assert.ok(conf.includes(`$upstream_http_${h.replace(/-/g, '_')}`), `${f} copies ${h}`);
      }
      // Every fixed name of the strip list is blanked in each proxied location (nginx drops `_` spellings itself).
      const proxied = conf.split(/\n\s*location /).filter((l) => /^\s*proxy_pass http:\/\/app/m.test(l)); // directives, not comments
      assert.ok(proxied.length > 0, f);
      for (const l of proxied)
        for (const n of [...FOREIGN_IDENTITY_HEADERS, ...REWRITE_HEADERS]) assert.match(l, new RegExp(`proxy_set_header ${n} "";`, 'i'), `${f}: ${n}`);
    }
  });

  it('the shipped proxy configs normalize paths before the check (the judged path is the forwarded one)', () => {
    // Istio: mesh-wide normalization that merges slashes (BASE, the default, keeps `//`).
    const mesh = one((d) => 'extensionProviders' in d.doc, 'mesh config');
    assert.ok(
      ['MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'].includes(String(at(mesh, 'pathNormalization', 'normalization'))),
      'istio/mesh-config.yaml pathNormalization',
    );
    // Every EnvoyFilter that adds ext_authz also normalizes the gateway's connection manager.
    for (const name of ['oidc-judge-grpc', 'oidc-judge-http']) {
      const patches = at(byName('EnvoyFilter', name), 'spec', 'configPatches') as Doc[];
      const hcm = patches.find(
        (p) =>
          p['applyTo'] === 'NETWORK_FILTER' && at(p, 'match', 'listener', 'filterChain', 'filter', 'name') === 'envoy.filters.network.http_connection_manager',
      );
      assert.ok(hcm, `${name}: no HTTP connection manager patch`);
      assert.equal(at(hcm, 'patch', 'operation'), 'MERGE');
      assert.equal(at(hcm, 'match', 'context'), at(patches[0]!, 'match', 'context'), `${name}: normalizes where it checks`);
      const tc = at(hcm, 'patch', 'value', 'typed_config') as Doc;
      assert.equal(tc['normalize_path'], true, name);
      assert.equal(tc['merge_slashes'], true, name);
      assert.ok(['UNESCAPE_AND_REDIRECT', 'REJECT_REQUEST'].includes(String(tc['path_with_escaped_slashes_action'])), name);
    }
    // Emissary normalizes dot segments itself; the Module adds slashes and escaped slashes.
    const mod = byName('Module', 'ambassador');
    assert.equal(at(mod, 'spec', 'config', 'merge_slashes'), true);
    assert.equal(at(mod, 'spec', 'config', 'reject_requests_with_escaped_slashes'), true);
    // Traefik: every entry point keeps sanitizePath on.
    const traefik = one((d) => 'entryPoints' in d.doc, 'Traefik static config');
    const eps = Object.entries(traefik['entryPoints'] as Record<string, Doc>);
    assert.ok(eps.length > 0);
    for (const [name, ep] of eps) assert.equal(at(ep, 'http', 'sanitizePath'), true, `entry point ${name}`);
  });

  it("the deployment docs' relative links lead to files that exist", () => {
    const docs: [string, string][] = ['docs/deployment.md', 'istio/README.md', 'istio/KUBEFLOW.md', 'helm/README.md', 'examples/README.md'].map(
      (f): [string, string] => [f.slice(0, f.lastIndexOf('/') + 1), readFileSync(join(projectRoot, f), 'utf8')],
    );
    const broken: string[] = [];
    for (const [dir, text] of docs) {
      for (const m of text.matchAll(/\]\(([^)#\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        if (!existsSync(join(projectRoot, dir, target))) broken.push(`${dir} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('the nginx examples are templated only where addresses go', () => {
    const templates = filesUnder(['examples/nginx'], ['.conf.template']);
    assert.deepEqual(
      templates.map((f) => f.slice(join(projectRoot, 'examples/nginx/').length)),
      ['auth-request.conf.template', 'login.conf.template'],
    );
    for (const f of templates) {
      const placeholders = new Set([...readFileSync(f, 'utf8').matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]));
      assert.ok(
        [...placeholders].every((p) => ['LISTEN', 'JUDGE', 'WEB', 'UPSTREAM'].includes(p!)),
        `${f}: ${[...placeholders].join(', ')}`,
      );
    }
  });
});
