/**
 * The chart rendered (test/deploy/chart.ts, our `helm template`) with the default values, the CI
 * scenarios and the Kubeflow values: every object valid against the real schemas, the pod hardened
 * and probed, the environment accepted by the service's own config loader, RBAC exactly what the
 * features need, the EnvoyFilter's header lists what the judge's code sets for that configuration,
 * and Helm's failures (missing settings, contradictory options) where a user would hit them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { CHART_DIR, coalesce, find, readYaml11, renderChart, type Rendered, type Values } from './chart.js';
import { denyHeaders, requestHeaders, upstreamHeaders } from './judge-headers.js';
import { at, checkDocument, yamlDocs, type Doc } from './manifests.js';

const required = { config: { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'app' }, secret: { values: { CLIENT_SECRET: 's3cret' } } };
const file = (f: string): Values => readYaml11(readFileSync(join(CHART_DIR, f), 'utf8')) as Values;
const podSpec = (workload: Doc): Doc => at(workload, 'spec', 'template', 'spec') as Doc;
const container = (workload: Doc): Doc => (podSpec(workload)['containers'] as Doc[])[0]!;
const workloadOf = (r: Rendered): Doc => r.manifests.find((m) => m.file === 'workload.yaml')!.doc;

/** The container's environment as the service would see it (the Secret's keys through envFrom). */
function environment(r: Rendered, secretEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = { ...secretEnv };
  const secret = r.manifests.find((m) => m.doc['kind'] === 'Secret');
  if (secret) Object.assign(env, secret.doc['stringData']);
  for (const e of container(workloadOf(r))['env'] as { name: string; value: string }[]) env[e.name] = e.value;
  return env;
}
const configOf = (env: Record<string, string>) => loadConfig({ env, readFile: () => '' });
const ruleResources = (r: Rendered): string[] => ((find(r, 'ClusterRole')['rules'] ?? []) as { resources: string[] }[]).flatMap((x) => x.resources).sort();

const scenarios: [string, Values, string?][] = [
  ['defaults', required],
  ['ci/minimal-values.yaml', file('ci/minimal-values.yaml')],
  ['ci/redis-ha-values.yaml', file('ci/redis-ha-values.yaml')],
  ['ci/two-providers-values.yaml', file('ci/two-providers-values.yaml')],
  ['values-kubeflow.yaml', file('values-kubeflow.yaml'), 'istio-system'],
];

describe('helm/oidc-judge rendered', () => {
  for (const [name, vals, namespace] of scenarios) {
    it(`${name}: every object is valid, the pod hardened, the config accepted by the service`, async () => {
      const r = renderChart(vals, namespace ? { namespace } : {});
      const problems: string[] = [];
      for (const m of r.manifests) problems.push(...(await checkDocument({ file: `templates/${m.file}`, doc: m.doc })));
      assert.deepEqual(problems, []);

      const w = workloadOf(r);
      const pod = podSpec(w);
      const c = container(w);
      assert.deepEqual(at(pod, 'securityContext', 'seccompProfile'), { type: 'RuntimeDefault' });
      assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
      assert.equal(at(c, 'securityContext', 'readOnlyRootFilesystem'), true);
      assert.equal(at(c, 'securityContext', 'allowPrivilegeEscalation'), false);
      assert.deepEqual(at(c, 'securityContext', 'capabilities'), { drop: ['ALL'] });
      assert.deepEqual([at(c, 'livenessProbe', 'httpGet', 'path'), at(c, 'readinessProbe', 'httpGet', 'path')], ['/healthz', '/readyz']);
      const health = (c['ports'] as Doc[]).find((p) => p['name'] === at(c, 'readinessProbe', 'httpGet', 'port'));
      assert.equal(health?.['containerPort'], 8081);
      const mounts = Object.fromEntries((c['volumeMounts'] as Doc[]).map((m) => [m['mountPath'], m['name']]));
      assert.equal(mounts['/tmp'], 'tmp');

      const env = environment(r, namespace === 'istio-system' ? { CLIENT_ID: 'kubeflow-oidc-authservice', CLIENT_SECRET: 'x' } : {});
      const { config } = configOf(env);
      assert.equal(config.serverPort, 8080);
      assert.equal(config.readinessProbePort, 8081);
      if (config.sessionStoreType === 'sqlite') assert.equal(mounts['/var/lib/authservice'], 'data', 'the SQLite file is on the data volume');
    });
  }

  it('the validation would catch a misspelt or mistyped field in a rendered object', async () => {
    const sts = structuredClone(find(renderChart(required), 'StatefulSet'));
    const c = container(sts);
    c['readinesProbe'] = c['readinessProbe'];
    (c['ports'] as Doc[])[0]!['containerPort'] = '8080';
    const problems = await checkDocument({ file: 'x', doc: sts });
    assert.ok(
      problems.some((p) => p.endsWith('/spec/template/spec/containers/0/ports/0/containerPort must be integer')),
      problems.join('\n'),
    );
    delete (c['ports'] as Doc[])[0]!['containerPort'];
    (c['ports'] as Doc[])[0]!['containerPort'] = 8080;
    assert.deepEqual(await checkDocument({ file: 'x', doc: sts }), ['x: StatefulSet oidc-judge: unknown field /spec/template/spec/containers/0/readinesProbe']);
  });

  it('sqlite: one StatefulSet replica with a volume claim; redis: a Deployment with HPA and PDB', () => {
    const lite = renderChart(required);
    const sts = find(lite, 'StatefulSet');
    assert.equal(at(sts, 'spec', 'replicas'), 1);
    assert.equal(at(sts, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name'), 'data');
    assert.deepEqual(
      lite.manifests.map((m) => m.doc['kind']).filter((k) => ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(String(k))),
      [],
    );
    const ephemeral = renderChart(file('ci/minimal-values.yaml'));
    assert.deepEqual(
      (podSpec(find(ephemeral, 'StatefulSet'))['volumes'] as Doc[]).map((v) => [v['name'], v['emptyDir']]),
      [
        ['tmp', {}],
        ['data', {}],
      ],
    );

    const ha = renderChart(file('ci/redis-ha-values.yaml'));
    const dep = find(ha, 'Deployment');
    assert.equal(at(dep, 'spec', 'replicas'), undefined, 'the HPA owns the replica count');
    assert.equal(at(find(ha, 'HorizontalPodAutoscaler'), 'spec', 'scaleTargetRef', 'name'), at(dep, 'metadata', 'name'));
    assert.equal(at(find(ha, 'PodDisruptionBudget'), 'spec', 'minAvailable'), 1);
    const fixed = renderChart({ ...file('ci/redis-ha-values.yaml'), autoscaling: { enabled: false }, replicaCount: 1 });
    assert.equal(at(find(fixed, 'Deployment'), 'spec', 'replicas'), 1);
    assert.ok(!fixed.manifests.some((m) => m.doc['kind'] === 'PodDisruptionBudget'), 'no PDB that would block drains of a single replica');
  });

  it('numbers and structures reach the environment in the form the service parses', () => {
    const env = environment(renderChart(file('ci/redis-ha-values.yaml')));
    assert.equal(env['SESSION_MAX_AGE'], '1209600', 'not 1.2096e+06');
    assert.equal(env['GROUPS_ALLOWLIST'], 'admins,staff');
    assert.deepEqual(JSON.parse(env['SKIP_RULES']!), [{ methods: ['GET'], path: { prefix: '/public/' } }]);
    const { config } = configOf(env);
    assert.equal(config.sessionMaxAge, 1209600);
    assert.equal(config.cacheEnabled, true);
    assert.equal(config.sessionStoreRedisPwd, 'redis-pass');
    assert.deepEqual(config.claimHeaders, { 'x-user-email': 'email', 'x-user-name': 'name' });
    assert.deepEqual(config.templateContext, { SUPPORT_EMAIL: 'help@example.com' });
  });

  it('a second provider (PROVIDERS) and a rule naming it reach the service as it parses them', () => {
    const { config } = configOf(environment(renderChart(file('ci/two-providers-values.yaml'))));
    assert.deepEqual(
      config.providers.map((p) => [p.id, p.issuer, p.clientSecretFile, p.hosts]),
      [['partner', 'https://partner-idp.example.net', '/var/run/secrets/oidc-judge-partner/client-secret', ['partners.example.com']]],
    );
    assert.equal(config.authzRules[0]?.provider, 'partner');
  });

  it('RBAC: TokenReview with KUBERNETES_AUTHN_ENABLED, the proxy permissions only when switched on, nothing otherwise', () => {
    assert.deepEqual(ruleResources(renderChart(required)), ['tokenreviews']);
    assert.deepEqual(ruleResources(renderChart(file('ci/redis-ha-values.yaml'))), [
      'groups',
      'serviceaccounts',
      'subjectaccessreviews',
      'tokenreviews',
      'uids',
      'users',
    ]);
    const none = renderChart(file('ci/minimal-values.yaml'));
    assert.deepEqual(
      none.manifests.map((m) => m.doc['kind']).filter((k) => String(k).startsWith('ClusterRole')),
      [],
    );
    assert.equal(podSpec(find(none, 'StatefulSet'))['automountServiceAccountToken'], false);
    assert.equal(find(none, 'ServiceAccount')['automountServiceAccountToken'], false);
    const sar = renderChart(coalesce(file('ci/minimal-values.yaml'), { rbac: { subjectAccessReview: true } }));
    assert.deepEqual(ruleResources(sar), ['subjectaccessreviews']);
    assert.equal(podSpec(find(sar, 'StatefulSet'))['automountServiceAccountToken'], true);
  });

  it("the EnvoyFilter's header lists are what the judge's code reads and sets for that configuration", () => {
    const ha = renderChart(file('ci/redis-ha-values.yaml'));
    const { config } = configOf(environment(ha));
    const http = at(find(ha, 'EnvoyFilter'), 'spec', 'configPatches', 0, 'patch', 'value', 'typed_config', 'http_service') as Doc;
    const list = (m: unknown): string[] => (m as { patterns: { exact?: string; prefix?: string }[] }).patterns.map((p) => p.exact ?? `${p.prefix}*`).sort();
    assert.deepEqual(list(at(http, 'authorization_response', 'allowed_upstream_headers')), upstreamHeaders(config).sort());
    for (const h of ['x-id-token', 'x-user-email', 'x-auth-request-email', 'authorization']) assert.ok(upstreamHeaders(config).includes(h), h);
    assert.deepEqual(list(at(http, 'authorization_request', 'allowed_headers')), requestHeaders(config));
    assert.deepEqual(list(at(http, 'authorization_response', 'allowed_client_headers')), denyHeaders());
    assert.match(
      ha.notes,
      /headersToUpstreamOnAllow: \[kubeflow-userid, kubeflow-groups, auth-method, x-user-email, x-user-name, x-id-token, x-auth-request-user, x-auth-request-groups, x-auth-request-email, x-auth-request-preferred-username, authorization, cookie\]/,
    );
  });

  it('with the defaults, the Istio resources are the ones in istio/ (for a release named oidc-judge in auth)', () => {
    const r = renderChart(
      coalesce(required, { istio: { envoyFilter: { enabled: true, mode: 'http' }, virtualService: { enabled: true, namespace: 'istio-system' } } }),
    );
    const docs = yamlDocs(['istio']);
    const shipped = (kind: string, name?: string): Doc => docs.find((d) => d.doc['kind'] === kind && (!name || at(d.doc, 'metadata', 'name') === name))!.doc;
    assert.deepEqual(at(find(r, 'EnvoyFilter'), 'spec'), at(shipped('EnvoyFilter', 'oidc-judge-http'), 'spec'));
    assert.deepEqual(at(find(r, 'VirtualService'), 'spec', 'http'), at(shipped('VirtualService'), 'spec', 'http'));
    const grpc = renderChart(coalesce(required, { istio: { envoyFilter: { enabled: true } } }));
    assert.deepEqual(at(find(grpc, 'EnvoyFilter'), 'spec'), at(shipped('EnvoyFilter', 'oidc-judge-grpc'), 'spec'));
    const ap = renderChart(coalesce(required, { istio: { authorizationPolicy: { enabled: true } } }));
    assert.deepEqual(at(find(ap, 'AuthorizationPolicy'), 'spec'), at(shipped('AuthorizationPolicy', 'oidc-judge'), 'spec'));
    const mesh = docs.find((d) => 'extensionProviders' in d.doc)!.doc;
    const notesMesh = readYaml11(r.notes.slice(r.notes.indexOf('extensionProviders:'), r.notes.indexOf('\n\n', r.notes.indexOf('extensionProviders:')))) as Doc;
    const strip = (p: Doc): Doc => JSON.parse(JSON.stringify(p, (k, v: unknown) => (k === 'failOpen' ? undefined : v))) as Doc;
    assert.deepEqual(notesMesh['extensionProviders'], (mesh['extensionProviders'] as Doc[]).map(strip));
  });

  it('the Kubeflow values replace oidc-authservice in istio-system', () => {
    const r = renderChart(file('values-kubeflow.yaml'), { namespace: 'istio-system' });
    assert.equal(at(find(r, 'AuthorizationPolicy'), 'metadata', 'namespace'), 'istio-system');
    assert.equal(at(find(r, 'VirtualService'), 'spec', 'http', 0, 'route', 0, 'destination', 'host'), 'oidc-judge.istio-system.svc.cluster.local');
    assert.ok(!r.manifests.some((m) => m.doc['kind'] === 'Secret'), 'the existing Secret is used');
    assert.deepEqual(at(container(find(r, 'StatefulSet')), 'envFrom'), [{ secretRef: { name: 'oidc-authservice-client-info' } }]);
    const { config } = configOf(environment(r, { CLIENT_ID: 'kubeflow-oidc-authservice', CLIENT_SECRET: 'x' }));
    assert.equal(config.sessionCookieHttpOnly, false);
    assert.deepEqual(config.skipAuthUrls, ['/dex']);
    assert.equal(config.oidcAuthUrl, '/dex/auth');
  });

  it('assertion keys: generated by the judge by default (nothing mounted), or an existing Secret mounted read-only', async () => {
    const assertion = { config: { ASSERTION_HEADER: 'X-Identity-Assertion', AUTHSERVICE_URL_PREFIX: 'https://apps.example.com/authservice/' } };
    const generated = renderChart(coalesce(required, assertion));
    const env = environment(generated);
    assert.equal(env['ASSERTION_KEY_FILE'], undefined);
    assert.ok(!(podSpec(workloadOf(generated))['volumes'] as Doc[]).some((v) => v['name'] === 'assertion-keys'));
    assert.equal(configOf(env).config.assertionIssuer, 'https://apps.example.com/authservice');

    const mounted = renderChart(
      coalesce(coalesce(required, assertion), { assertionKeys: { existingSecret: 'judge-keys', publishedKeys: ['next.pem', 'old.jwk'] } }),
    );
    const problems: string[] = [];
    for (const m of mounted.manifests) problems.push(...(await checkDocument({ file: `templates/${m.file}`, doc: m.doc })));
    assert.deepEqual(problems, []);
    const w = workloadOf(mounted);
    assert.deepEqual(
      (podSpec(w)['volumes'] as Doc[]).find((v) => v['name'] === 'assertion-keys'),
      { name: 'assertion-keys', secret: { secretName: 'judge-keys', defaultMode: 0o440 } },
    );
    assert.deepEqual(
      (container(w)['volumeMounts'] as Doc[]).find((m) => m['name'] === 'assertion-keys'),
      { name: 'assertion-keys', mountPath: '/etc/oidc-judge/assertion-keys', readOnly: true },
    );
    const { config } = configOf(environment(mounted));
    assert.equal(config.assertionKeyFile, '/etc/oidc-judge/assertion-keys/signing.pem');
    assert.deepEqual(config.assertionPublishedKeyFiles, ['/etc/oidc-judge/assertion-keys/next.pem', '/etc/oidc-judge/assertion-keys/old.jwk']);
    assert.throws(
      () =>
        renderChart(
          coalesce(coalesce(required, assertion), { assertionKeys: { existingSecret: 'k' }, config: { ...assertion.config, ASSERTION_KEY_FILE: '/x.pem' } }),
        ),
      /not both/,
    );
  });

  it('fails like Helm where a user would get it wrong', () => {
    const secret = { secret: required.secret };
    assert.throws(() => renderChart(secret), /config\.OIDC_PROVIDER is required/);
    assert.throws(() => renderChart({ ...secret, config: { OIDC_PROVIDER: 'https://idp' } }), /config\.CLIENT_ID is required/);
    assert.throws(() => renderChart({ config: required.config }), /secret\.values\.CLIENT_SECRET is required/);
    assert.throws(() => renderChart(coalesce(required, { store: { type: 'redis' } })), /SESSION_STORE_REDIS_ADDR is required/);
    assert.throws(() => renderChart(coalesce(required, { autoscaling: { enabled: true } })), /autoscaling needs store\.type=redis/);
    assert.throws(() => renderChart(coalesce(required, { istio: { envoyFilter: { enabled: true }, authorizationPolicy: { enabled: true } } })), /not both/);
    assert.throws(() => renderChart(coalesce(required, { config: { OIDC_PROVIDER_URL: 'x' } })), /schema[\s\S]*OIDC_PROVIDER_URL/);
  });
});
