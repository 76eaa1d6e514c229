/**
 * Header presets and lists of names (HEADER_PRESET, comma lists in USERID_HEADER and friends, an
 * empty AUTH_METHOD_HEADER) and the forwarded tokens (FORWARD_ID_TOKEN_HEADER,
 * FORWARD_ACCESS_TOKEN_HEADER): what an allow sets, and that every one of these names is taken off
 * a client's request on every allow and skip — `Authorization` included when it is a forward header.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/load.js';
import { createJudge } from '../../../src/judge/decide.js';
import type { Allow, Decision, Identity } from '../../../src/judge/decision.js';
import { compileIdentityHeaders } from '../../../src/judge/upstream/identity-headers.js';
import type { Target } from '../../../src/judge/ports.js';
import type { JudgeRequest } from '../../../src/judge/request.js';
import { createResponses } from '../../../src/judge/responses.js';
import { stripFor } from '../../../src/judge/strip.js';
import { base, noFiles, problems } from '../../helpers/config.js';

const config = (env: Record<string, string> = {}) => loadConfig({ env: { ...base, ...env }, readFile: noFiles }).config;

const req = (path: string, headers: Record<string, string>): JudgeRequest => ({
  method: 'GET',
  scheme: 'https',
  host: 'app.example.com',
  path,
  headers: Object.assign(Object.create(null) as Record<string, string>, headers),
  peer: '127.0.0.1',
  requestId: 'r',
  denyStyle: 'redirect',
  via: 'grpc',
});

function judgeWith(env: Record<string, string>, identity: Identity) {
  const c = config(env);
  const strip = stripFor(c);
  return createJudge({
    targetOf: (r): Target => ({ method: r.method, hostname: 'app.example.com', path: r.path, ambiguous: false }),
    skip: { matches: (t) => (t.path.startsWith('/public') ? '/public' : undefined) },
    authenticators: [{ name: identity.authenticator, authenticate: () => ({ kind: 'ok', identity }) }],
    authorizers: [],
    identityHeaders: compileIdentityHeaders({ ...c, alsoRemove: strip.spellings }),
    strip,
    authHeader: c.authHeader,
    responses: createResponses(),
  });
}

function allowed(d: Decision): Allow {
  assert.equal(d.kind, 'allow', JSON.stringify(d));
  return d as Allow;
}

/** What an upstream behind Envoy gets: the request headers, then the sets, then the removals. */
function upstreamOf(headers: Record<string, string>, a: Allow): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  for (const [n, v] of a.upstreamHeaders) out[n] = v;
  for (const n of a.removeHeaders) delete out[n];
  return out;
}

const alice: Identity = {
  user: 'alice@example.com',
  groups: ['staff', 'ml'],
  claims: { email: 'alice@example.com', preferred_username: 'alice', name: 'Alice Liddell' },
  method: 'cookie',
  authenticator: 'session',
  token: 'id.token.alice',
  accessToken: 'access-alice',
  sessionId: 'S',
};

const FORGED = {
  'x-auth-request-user': 'admin',
  x_auth_request_email: 'admin@example.com',
  'x-auth-request-groups': 'admin',
  'x-auth-request-preferred-username': 'admin',
  'x-auth-request-access-token': 'forged',
  'remote-user': 'admin',
  remote_groups: 'admin',
  'remote-name': 'Admin',
  'remote-email': 'admin@example.com',
  authorization: 'Bearer forged',
  'x-id-token': 'forged',
};

describe('header presets and lists of names', () => {
  it('HEADER_PRESET=oauth2-proxy,authelia: the user, groups, email, name and preferred username under their names; forged ones replaced or removed', async () => {
    const judge = judgeWith({ HEADER_PRESET: 'oauth2-proxy,authelia' }, alice);
    const up = upstreamOf(FORGED, allowed(await judge(req('/app', FORGED))));
    assert.equal(up['kubeflow-userid'], 'alice@example.com');
    assert.equal(up['x-auth-request-user'], 'alice@example.com');
    assert.equal(up['x-auth-request-email'], 'alice@example.com');
    assert.equal(up['x-auth-request-groups'], 'staff,ml');
    assert.equal(up['x-auth-request-preferred-username'], 'alice');
    assert.equal(up['remote-user'], 'alice@example.com');
    assert.equal(up['remote-groups'], 'staff,ml');
    assert.equal(up['remote-name'], 'Alice Liddell');
    assert.equal(up['remote-email'], 'alice@example.com');
    for (const n of ['x_auth_request_email', 'remote_groups', 'x-auth-request-access-token']) assert.equal(up[n], undefined, n);
  });

  it('a claim a preset reads that the identity lacks: the header is removed, never the client’s left', async () => {
    const judge = judgeWith({ HEADER_PRESET: 'authelia' }, { ...alice, claims: {} });
    const up = upstreamOf(FORGED, allowed(await judge(req('/app', FORGED))));
    assert.equal(up['remote-name'], undefined);
    assert.equal(up['remote-email'], undefined);
  });

  it('USERID_HEADER and GROUPS_HEADER as comma lists send one value under several names; AUTH_METHOD_HEADER= sends none', async () => {
    const env = { USERID_HEADER: 'kubeflow-userid, X-User', GROUPS_HEADER: 'kubeflow-groups,x-groups', AUTH_METHOD_HEADER: '' };
    const judge = judgeWith(env, alice);
    const sent = { 'auth-method': 'header', 'x-user': 'admin' };
    const up = upstreamOf(sent, allowed(await judge(req('/app', sent))));
    assert.equal(up['kubeflow-userid'], 'alice@example.com');
    assert.equal(up['x-user'], 'alice@example.com');
    assert.equal(up['x-groups'], 'staff,ml');
    assert.equal(up['auth-method'], 'header', 'no longer a judge header: the client’s passes');
    const withMethod = upstreamOf(sent, allowed(await judgeWith({}, alice)(req('/app', sent))));
    assert.equal(withMethod['auth-method'], 'cookie');
  });

  it('a skipped path gets none of them, forged or not', async () => {
    const judge = judgeWith(
      { HEADER_PRESET: 'oauth2-proxy,authelia', FORWARD_ID_TOKEN_HEADER: 'Authorization', FORWARD_ACCESS_TOKEN_HEADER: 'X-Id-Token' },
      alice,
    );
    const up = upstreamOf(FORGED, allowed(await judge(req('/public/x', FORGED))));
    assert.deepEqual(Object.keys(up), []);
  });

  it('refuses unknown presets, bad names and clashes at start-up, naming the setting', () => {
    assert.match(problems(() => config({ HEADER_PRESET: 'vouch' })).join('\n'), /HEADER_PRESET: unknown preset "vouch"/);
    assert.match(problems(() => config({ USERID_HEADER: 'a,b c' })).join('\n'), /USERID_HEADER: not a valid header name/);
    assert.match(problems(() => config({ USERID_HEADER: '' })).join('\n'), /USERID_HEADER: not a valid header name/);
    assert.match(problems(() => config({ FORWARD_ID_TOKEN_HEADER: 'bad header' })).join('\n'), /FORWARD_ID_TOKEN_HEADER: not a valid header name/);
    assert.match(
      problems(() => config({ FORWARD_ID_TOKEN_HEADER: 'authorization', FORWARD_ACCESS_TOKEN_HEADER: 'Authorization' })).join('\n'),
      /FORWARD_ACCESS_TOKEN_HEADER: must differ/,
    );
    assert.match(
      problems(() => config({ FORWARD_ID_TOKEN_HEADER: 'kubeflow-userid' })).join('\n'),
      /FORWARD_ID_TOKEN_HEADER: "kubeflow-userid" already carries/,
    );
    assert.equal(config({ AUTH_METHOD_HEADER: '' }).authMethodHeader, '');
  });
});

describe('tokens to the upstream', () => {
  it('a session: Authorization gets "Bearer <id_token>" (the client’s replaced), another header the raw access token', async () => {
    const judge = judgeWith({ FORWARD_ID_TOKEN_HEADER: 'Authorization', FORWARD_ACCESS_TOKEN_HEADER: 'X-Auth-Request-Access-Token' }, alice);
    const up = upstreamOf(FORGED, allowed(await judge(req('/app', FORGED))));
    assert.equal(up['authorization'], 'Bearer id.token.alice');
    assert.equal(up['x-auth-request-access-token'], 'access-alice');
  });

  it('a session id presented in Authorization (AUTH_HEADER) is replaced by the ID token, never passed on', async () => {
    const viaHeader: Identity = { ...alice, method: 'header' };
    const sent = { authorization: 'Bearer the-session-id' };
    const up = upstreamOf(sent, allowed(await judgeWith({ FORWARD_ID_TOKEN_HEADER: 'Authorization' }, viaHeader)(req('/app', sent))));
    assert.equal(up['authorization'], 'Bearer id.token.alice');
  });

  it('FORWARD_TOKEN_BEARER_PREFIX: always / never', async () => {
    const always = judgeWith({ FORWARD_ID_TOKEN_HEADER: 'X-Id-Token', FORWARD_TOKEN_BEARER_PREFIX: 'always' }, alice);
    assert.equal(upstreamOf({}, allowed(await always(req('/app', {}))))['x-id-token'], 'Bearer id.token.alice');
    const never = judgeWith({ FORWARD_ID_TOKEN_HEADER: 'Authorization', FORWARD_TOKEN_BEARER_PREFIX: 'never' }, alice);
    assert.equal(upstreamOf({}, allowed(await never(req('/app', {}))))['authorization'], 'id.token.alice');
  });

  it('a session without the token: the header is removed, the client’s never passes', async () => {
    const { token: _t, accessToken: _a, ...bare } = alice;
    const judge = judgeWith({ FORWARD_ID_TOKEN_HEADER: 'Authorization', FORWARD_ACCESS_TOKEN_HEADER: 'X-Id-Token' }, bare);
    const up = upstreamOf(FORGED, allowed(await judge(req('/app', FORGED))));
    assert.equal(up['authorization'], undefined);
    assert.equal(up['x-id-token'], undefined);
  });

  it('bearer authenticators: an ID token to the ID-token header, an access token to the access-token header', async () => {
    const env = { FORWARD_ID_TOKEN_HEADER: 'X-Id-Token', FORWARD_ACCESS_TOKEN_HEADER: 'X-Access-Token' };
    const viaId: Identity = { user: 'bob', groups: [], claims: {}, method: 'header', authenticator: 'id_token', token: 'bob.id.token' };
    const up1 = upstreamOf(
      { authorization: 'Bearer bob.id.token' },
      allowed(await judgeWith(env, viaId)(req('/app', { authorization: 'Bearer bob.id.token' }))),
    );
    assert.equal(up1['x-id-token'], 'bob.id.token');
    assert.equal(up1['x-access-token'], undefined);
    const viaAccess: Identity = { ...viaId, authenticator: 'access_token', token: 'bob-access' };
    const up2 = upstreamOf({}, allowed(await judgeWith(env, viaAccess)(req('/app', {}))));
    assert.equal(up2['x-access-token'], 'bob-access');
    assert.equal(up2['x-id-token'], undefined);
  });

  it('FORWARD_ID_TOKEN_HEADER=Authorization: a verified machine token (Kubernetes, access token) stays in Authorization, where it came in', async () => {
    const sa: Identity = {
      user: 'system:serviceaccount:kubeflow:pipeline-runner',
      groups: [],
      claims: {},
      method: 'header',
      authenticator: 'kubernetes',
      token: 'sa.jwt',
    };
    const sent = { authorization: 'Bearer sa.jwt' };
    const up = upstreamOf(sent, allowed(await judgeWith({ FORWARD_ID_TOKEN_HEADER: 'Authorization' }, sa)(req('/pipeline', sent))));
    assert.equal(up['authorization'], 'Bearer sa.jwt');
  });

  it('the remembered headers follow a refreshed token (same claims object, new token)', async () => {
    let identity = alice;
    const c = config({ FORWARD_ID_TOKEN_HEADER: 'Authorization' });
    const headers = compileIdentityHeaders(c);
    assert.deepEqual(
      headers.forAllow(identity)?.upstream.find(([n]) => n === 'authorization'),
      ['authorization', 'Bearer id.token.alice'],
    );
    identity = { ...alice, token: 'id.token.renewed' };
    assert.deepEqual(
      headers.forAllow(identity)?.upstream.find(([n]) => n === 'authorization'),
      ['authorization', 'Bearer id.token.renewed'],
    );
  });
});
