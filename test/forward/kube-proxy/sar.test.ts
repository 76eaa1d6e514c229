import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { send } from '../../helpers/http-send.js';
import type { SubjectAccessReviewSpec } from '../../helpers/kube-api.js';
import { rawNames, startKubeStack, CLIENT_ID, type KubeStack } from '../../helpers/kube-proxy.js';
import { startOp, type TestOp } from '../../helpers/op.js';

let op: TestOp;
const stacks: KubeStack[] = [];
before(async () => {
  op = await startOp({ clientId: CLIENT_ID });
});
after(async () => {
  await Promise.all(stacks.map((s) => s.close()));
  await op.stop();
});

interface Attrs {
  verb: string;
  group: string;
  resource: string;
  name: string;
  namespace?: string;
  subresource?: string;
}

/** A stack in SAR mode whose API double allows what `allow` says and records every SAR spec. */
async function sarStack(
  allow: (a: Attrs) => boolean,
  options: Record<string, unknown> = {},
): Promise<{ s: KubeStack; specs: SubjectAccessReviewSpec[]; token: string }> {
  const specs: SubjectAccessReviewSpec[] = [];
  const s = await startKubeStack({
    op,
    options: { inboundImpersonation: 'subjectaccessreview', ...options },
    api: {
      subjectAccessReview: (spec) => {
        specs.push(spec);
        return { allowed: allow(spec['resourceAttributes'] as Attrs) };
      },
    },
  });
  stacks.push(s);
  return { s, specs, token: await s.token() };
}

const everything = (): boolean => true;

describe('kube proxy: inbound impersonation checked by SubjectAccessReview', () => {
  it('asks one review per user, group, uid and extra value, as the requester, on the resources kube-apiserver checks', async () => {
    const { s, specs, token } = await sarStack(everything);
    const r = await send(s.port, '/api/v1/pods', {
      headers: {
        authorization: `Bearer ${token}`,
        'Impersonate-User': 'bob',
        'Impersonate-Group': ['admins', 'qa'],
        'Impersonate-Uid': 'uid-7',
        'Impersonate-Extra-Scopes': ['view', 'edit'],
        'Impersonate-Extra-Acme.com%2Fproject': 'x',
      },
    });
    assert.equal(r.status, 200);
    // The reviews run concurrently: compare them in a stable order.
    const sorted = (l: unknown[]): unknown[] =>
      l
        .map((x) => JSON.stringify(x))
        .sort()
        .map((x) => JSON.parse(x) as unknown);
    assert.deepEqual(
      sorted(specs.map((sp) => sp['resourceAttributes'])),
      sorted([
        { verb: 'impersonate', group: '', resource: 'users', name: 'bob' },
        { verb: 'impersonate', group: '', resource: 'groups', name: 'admins' },
        { verb: 'impersonate', group: '', resource: 'groups', name: 'qa' },
        { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: 'uid-7' },
        { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'view' },
        { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'edit' },
        { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'acme.com/project', name: 'x' },
      ]),
    );
    for (const sp of specs) {
      assert.equal(sp['user'], 'alice@example.com');
      assert.deepEqual(sp['groups'], ['dev', 'ops', 'system:authenticated']);
    }
    const up = s.seen[0]!;
    assert.equal(up.bearer, s.api.token);
    assert.deepEqual(up.distinct['impersonate-user'], ['bob']);
    assert.deepEqual(up.distinct['impersonate-uid'], ['uid-7']);
    assert.deepEqual(up.distinct['impersonate-group'], ['admins', 'qa', 'system:authenticated']);
    assert.deepEqual(up.distinct['impersonate-extra-scopes'], ['view', 'edit']);
    assert.deepEqual(up.distinct['impersonate-extra-acme.com%2fproject'], ['x']);
    assert.deepEqual(up.distinct['impersonate-extra-originaluser.jetstack.io-user'], ['alice@example.com']);
    assert.deepEqual(up.distinct['impersonate-extra-originaluser.jetstack.io-groups'], ['dev', 'ops']);
    assert.ok(rawNames(up.raw, 'impersonate-extra-').includes('Impersonate-Extra-Originaluser.jetstack.io-User'));
    assert.ok(rawNames(up.raw, 'impersonate-extra-').includes('Impersonate-Extra-Acme.com%2fproject'));
    const line = s.accessLines()[0]!;
    assert.match(
      line,
      / inbound:\[alice@example\.com \/ dev\|ops \/ \] outbound:\[bob \/ admins\|qa\|system:authenticated \/ uid-7 \/ acme\.com\/project=x originaluser\.jetstack\.io-groups=dev\|ops originaluser\.jetstack\.io-user=alice@example\.com scopes=view\|edit\]$/,
    );
  });

  it('checks a service-account user on serviceaccounts in its namespace', async () => {
    const { s, specs, token } = await sarStack(everything);
    assert.equal(
      (await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}`, 'Impersonate-User': 'system:serviceaccount:ci:deployer' } })).status,
      200,
    );
    assert.deepEqual(specs[0]!['resourceAttributes'], { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: 'ci', name: 'deployer' });
  });

  it('answers 403 naming what was refused', async () => {
    const { s, token } = await sarStack(
      (a) =>
        !(a.resource === 'users' && a.name === 'root') &&
        !(a.resource === 'groups' && a.name === 'system:masters') &&
        a.resource !== 'userextras' &&
        a.resource !== 'uids',
    );
    const ask = (h: Record<string, string>): Promise<{ status: number; body: string }> =>
      send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}`, ...h } });
    assert.deepEqual(await ask({ 'Impersonate-User': 'root' }).then((r) => [r.status, r.body]), [
      403,
      "alice@example.com is not allowed to impersonate user 'root'",
    ]);
    assert.deepEqual(await ask({ 'Impersonate-User': 'bob', 'Impersonate-Group': 'system:masters' }).then((r) => [r.status, r.body]), [
      403,
      "alice@example.com is not allowed to impersonate group 'system:masters'",
    ]);
    assert.deepEqual(await ask({ 'Impersonate-User': 'bob', 'Impersonate-Extra-Scopes': 'admin' }).then((r) => [r.status, r.body]), [
      403,
      "alice@example.com is not allowed to impersonate extra info 'scopes'='admin'",
    ]);
    assert.deepEqual(await ask({ 'Impersonate-User': 'bob', 'Impersonate-Uid': '0' }).then((r) => [r.status, r.body]), [
      403,
      "alice@example.com is not allowed to impersonate uid '0'",
    ]);
    assert.equal(s.seen.length, 0);
    assert.ok(s.accessLines().every((l) => l.includes('AuFail')));
  });

  it('answers 400 without Impersonate-User or with an unknown Impersonate-* header, before any review', async () => {
    const { s, specs, token } = await sarStack(everything);
    const groupOnly = await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}`, 'Impersonate-Group': 'admins' } });
    assert.deepEqual([groupOnly.status, groupOnly.body], [400, 'no Impersonate-User header found for request']);
    const extraOnly = await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}`, 'Impersonate-Extra-Scopes': 'x' } });
    assert.equal(extraOnly.status, 400);
    const unknown = await send(s.port, '/api/v1/pods', {
      headers: { authorization: `Bearer ${token}`, 'Impersonate-User': 'bob', 'Impersonate-Not-Real': 'x' },
    });
    assert.deepEqual([unknown.status, unknown.body], [400, 'unknown impersonation header impersonate-not-real']);
    assert.equal(specs.length, 0);
  });

  it('answers 503 when the review call fails, and reuses allowed answers for a while', async () => {
    const { s, specs, token } = await sarStack(everything);
    const ask = (): Promise<{ status: number }> => send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}`, 'Impersonate-User': 'bob' } });
    s.api.forbid = (rec) => rec.path.includes('subjectaccessreviews');
    assert.equal((await ask()).status, 503);
    s.api.forbid = undefined;
    assert.equal((await ask()).status, 200);
    assert.equal((await ask()).status, 200);
    assert.equal(specs.length, 1);
  });

  it('without inbound headers, forwards the authenticated user as in the default mode', async () => {
    const { s, specs, token } = await sarStack(everything);
    assert.equal((await send(s.port, '/api/v1/pods', { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.deepEqual(s.seen[0]!.distinct['impersonate-user'], ['alice@example.com']);
    assert.equal(specs.length, 0);
  });
});
