/**
 * istio/KUBEFLOW.md, Kubeflow ≥ 1.9: the extension provider it tells users to put in place of
 * Kubeflow's `oauth2-proxy` one is a valid mesh config, and its header lists are exactly what the
 * judge reads and sends when `oidc-judge oauth2-proxy` runs Kubeflow's shipped oauth2_proxy.cfg —
 * above all `authorization` both ways: in the check (a request's own bearer token) and upstream on
 * allow (the ID token of `set_authorization_header`, which RequestAuthentication verifies).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { oauth2ProxyCommand } from '../../src/compat/oauth2-proxy/command.js';
import { loadConfig } from '../../src/config/load.js';
import { projectRoot } from '../../src/paths.js';
import { KUBEFLOW_CFG } from '../compat/oauth2-proxy/fixture.js';
import { denyHeaders, requestHeaders, upstreamHeaders } from './judge-headers.js';
import { at, checkDocument, type Doc } from './manifests.js';

const GUIDE = 'istio/KUBEFLOW.md';
const MARK = '# oidc-judge oauth2-proxy with Kubeflow';
const sorted = (xs: unknown): string[] => [...(xs as string[])].map((x) => x.toLowerCase()).sort();

/** The guide's ```yaml block that starts with MARK. */
function guideProvider(): Doc {
  const blocks = [...readFileSync(join(projectRoot, GUIDE), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const ours = blocks.filter((b) => b.startsWith(MARK));
  assert.equal(ours.length, 1, `one block in ${GUIDE} starts with "${MARK}"`);
  return parse(ours[0]!) as Doc;
}

/** Kubeflow's cfg with its Deployment's variables, mapped and loaded as the command does. */
function kubeflowConfig() {
  const env = {
    OAUTH2_PROXY_CLIENT_ID: 'kubeflow-oidc-authservice',
    OAUTH2_PROXY_CLIENT_SECRET: 'pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok',
    OAUTH2_PROXY_COOKIE_SECURE: 'false',
    OAUTH2_PROXY_SKIP_JWT_BEARER_TOKENS: 'true',
  };
  const cmd = oauth2ProxyCommand(['--http-address=0.0.0.0:4180', `--config=${KUBEFLOW_CFG}`], env, (p) => readFileSync(p, 'utf8'));
  assert.deepEqual(cmd.errors, []);
  return loadConfig({ env: cmd.env, readFile: (p) => readFileSync(p, 'utf8') }).config;
}

describe(`${GUIDE}: the extension provider for Kubeflow ≥ 1.9`, () => {
  it('is a valid mesh config, named as Kubeflow’s CUSTOM policy expects, failing closed', async () => {
    const mesh = guideProvider();
    assert.deepEqual(await checkDocument({ file: GUIDE, doc: mesh }), []);
    const providers = mesh['extensionProviders'] as Doc[];
    assert.equal(providers.length, 1);
    assert.equal(providers[0]!['name'], 'oauth2-proxy');
    assert.equal(at(providers[0]!, 'envoyExtAuthzHttp', 'failOpen'), false);
    assert.equal(at(providers[0]!, 'envoyExtAuthzHttp', 'service'), 'oauth2-proxy.oauth2-proxy.svc.cluster.local');
  });

  it('passes exactly what the judge reads and sends for Kubeflow’s cfg, authorization both ways', () => {
    const http = at(guideProvider(), 'extensionProviders', 0, 'envoyExtAuthzHttp') as Doc;
    const config = kubeflowConfig();
    assert.equal(config.forwardIdTokenHeader, 'Authorization');
    assert.ok(sorted(http['includeRequestHeadersInCheck']).includes('authorization'), 'the check sees a request’s own bearer token');
    assert.ok(sorted(http['headersToUpstreamOnAllow']).includes('authorization'), 'the ID token reaches RequestAuthentication');
    assert.deepEqual(sorted(http['includeRequestHeadersInCheck']), requestHeaders(config));
    assert.deepEqual(sorted(http['headersToUpstreamOnAllow']), sorted(upstreamHeaders(config)));
    assert.deepEqual(sorted(http['headersToDownstreamOnDeny']), denyHeaders());
  });
});
