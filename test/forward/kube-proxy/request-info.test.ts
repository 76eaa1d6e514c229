import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLongRunning, requestInfo } from '../../../src/forward/kube-proxy/request-info.js';

describe('kube request info (audit verbs and object references)', () => {
  it('resolves core /api/v1 and group /apis requests (kube-oidc-proxy #161 missed the core ones)', () => {
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/default/pods'), {
      verb: 'list',
      resourceRequest: true,
      objectRef: { resource: 'pods', namespace: 'default', apiGroup: '', apiVersion: 'v1' },
    });
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/default/pods/web'), {
      verb: 'get',
      resourceRequest: true,
      objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiGroup: '', apiVersion: 'v1' },
    });
    assert.deepEqual(requestInfo('POST', '/api/v1/namespaces/default/pods/web/exec?command=sh'), {
      verb: 'create',
      resourceRequest: true,
      objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiGroup: '', apiVersion: 'v1', subresource: 'exec' },
    });
    assert.deepEqual(requestInfo('PATCH', '/apis/apps/v1/namespaces/ci/deployments/api'), {
      verb: 'patch',
      resourceRequest: true,
      objectRef: { resource: 'deployments', namespace: 'ci', name: 'api', apiGroup: 'apps', apiVersion: 'v1' },
    });
    assert.deepEqual(requestInfo('GET', '/api/v1/nodes'), {
      verb: 'list',
      resourceRequest: true,
      objectRef: { resource: 'nodes', apiGroup: '', apiVersion: 'v1' },
    });
    assert.deepEqual(requestInfo('PUT', '/api/v1/namespaces/ci/finalize'), {
      verb: 'update',
      resourceRequest: true,
      objectRef: { resource: 'namespaces', namespace: 'ci', name: 'ci', apiGroup: '', apiVersion: 'v1', subresource: 'finalize' },
    });
  });

  it('finds watches (query or legacy path) and delete collections; other paths are non-resource requests', () => {
    assert.equal(requestInfo('GET', '/api/v1/pods?watch=true').verb, 'watch');
    assert.equal(requestInfo('GET', '/api/v1/pods?watch=1&resourceVersion=5').verb, 'watch');
    assert.equal(requestInfo('GET', '/api/v1/watch/namespaces/default/pods').verb, 'watch');
    assert.equal(requestInfo('DELETE', '/api/v1/namespaces/default/pods').verb, 'deletecollection');
    assert.deepEqual(requestInfo('GET', '/healthz'), { verb: 'get', resourceRequest: false });
    assert.deepEqual(requestInfo('GET', '/apis/apps'), { verb: 'get', resourceRequest: false });
    assert.equal(requestInfo('GET', '/api/v1/namespaces/%zz/pods').objectRef?.namespace, '%zz');
  });

  it('marks long-running requests as kube-apiserver does', () => {
    assert.equal(isLongRunning(requestInfo('GET', '/api/v1/pods?watch=true')), true);
    assert.equal(isLongRunning(requestInfo('POST', '/api/v1/namespaces/d/pods/p/exec')), true);
    assert.equal(isLongRunning(requestInfo('GET', '/api/v1/namespaces/d/pods/p/log?follow=true')), true);
    assert.equal(isLongRunning(requestInfo('POST', '/api/v1/namespaces/d/pods/p/portforward')), true);
    assert.equal(isLongRunning(requestInfo('GET', '/api/v1/pods')), false);
  });
});
