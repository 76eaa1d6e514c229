/**
 * examples/envoy-gateway/: the Gateway API + Envoy Gateway example validates against the field
 * names of its resources (shapes-gateway.ts; no model package is installed), sends the checks of
 * the app's route to the judge's gRPC port and fails closed, serves the web pages without a check,
 * and normalizes paths on the Gateway.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, checkDocument, yamlDocs, type Doc } from './manifests.js';

const docs = yamlDocs(['examples/envoy-gateway']);
const byKind = (kind: string, name: string): Doc => {
  const hits = docs.filter((d) => d.doc['kind'] === kind && at(d.doc, 'metadata', 'name') === name);
  assert.equal(hits.length, 1, `exactly one ${kind} ${name}`);
  return hits[0]!.doc;
};

describe('Envoy Gateway example', () => {
  it('has the five documents the docs describe, each valid', async () => {
    assert.deepEqual(docs.map((d) => `${String(d.doc['kind'])} ${String(at(d.doc, 'metadata', 'name'))}`).sort(), [
      'ClientTrafficPolicy normalize-paths',
      'HTTPRoute app',
      'HTTPRoute oidc-judge-web',
      'ReferenceGrant oidc-judge-from-apps',
      'SecurityPolicy oidc-judge',
    ]);
    for (const d of docs) assert.deepEqual(await checkDocument(d), [], d.file);
  });

  it('sends the app route to the judge over gRPC (9191), failing closed, and nothing else', () => {
    const policy = byKind('SecurityPolicy', 'oidc-judge');
    assert.deepEqual(at(policy, 'spec', 'targetRefs'), [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'app' }]);
    const ext = at(policy, 'spec', 'extAuth') as Doc;
    assert.equal(ext['failOpen'], false);
    assert.equal(ext['statusOnError'], 503, 'an unreachable judge is unavailable, not forbidden');
    assert.equal(ext['http'], undefined, 'grpc or http, never both');
    assert.deepEqual(at(ext, 'grpc', 'backendRefs'), [{ name: 'oidc-judge', namespace: 'auth', port: 9191 }]);
  });

  it('routes the prefix to the web server without a policy, and grants the cross-namespace references', () => {
    const web = byKind('HTTPRoute', 'oidc-judge-web');
    assert.deepEqual(at(web, 'spec', 'rules', 0, 'matches', 0, 'path'), { type: 'PathPrefix', value: '/authservice/' });
    assert.deepEqual(at(web, 'spec', 'rules', 0, 'backendRefs', 0), { name: 'oidc-judge', namespace: 'auth', port: 8082 });
    const grant = byKind('ReferenceGrant', 'oidc-judge-from-apps');
    assert.equal(at(grant, 'metadata', 'namespace'), 'auth');
    assert.deepEqual(((at(grant, 'spec', 'from') as Doc[]) ?? []).map((f) => f['kind']).sort(), ['HTTPRoute', 'SecurityPolicy']);
  });

  it('normalizes paths on the Gateway before the check', () => {
    const ctp = byKind('ClientTrafficPolicy', 'normalize-paths');
    assert.equal(at(ctp, 'spec', 'path', 'escapedSlashesAction'), 'UnescapeAndRedirect');
    assert.equal(at(ctp, 'spec', 'path', 'disableMergeSlashes'), false);
  });

  it('catches a misspelt field, a wrong enum and a missing backend', async () => {
    const policy = structuredClone(byKind('SecurityPolicy', 'oidc-judge'));
    (at(policy, 'spec', 'extAuth') as Doc)['failopen'] = true;
    assert.match((await checkDocument({ file: 'x', doc: policy })).join('\n'), /failopen/);
    const ctp = structuredClone(byKind('ClientTrafficPolicy', 'normalize-paths'));
    (at(ctp, 'spec', 'path') as Doc)['escapedSlashesAction'] = 'Unescape';
    assert.match((await checkDocument({ file: 'x', doc: ctp })).join('\n'), /escapedSlashesAction/);
    const bare = structuredClone(byKind('SecurityPolicy', 'oidc-judge'));
    delete (at(bare, 'spec', 'extAuth') as Doc)['grpc'];
    assert.notDeepEqual(await checkDocument({ file: 'x', doc: bare }), []);
  });
});
