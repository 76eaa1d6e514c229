import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { UnsecuredJWT } from 'jose';
import { HttpClient } from '../../../src/net/http-client.js';
import { GraphGroupsError, readGraphGroups, retryAfterSeconds } from '../../../src/oidc/entra/graph-groups.js';
import { manyGroups, startGraph, type GraphDouble } from '../../helpers/graph.js';

const graphToken = (sub: string, aud = 'https://graph.microsoft.com'): string => new UnsecuredJWT({ sub, aud }).encode();

describe('readGraphGroups against the Graph double', () => {
  let graph: GraphDouble;
  const http = new HttpClient({ timeoutMs: 3000, maxRedirects: 0 });
  const opts = () => ({ baseUrl: graph.url, maxGroups: 5000, maxPages: 10, http });
  const now = Date.UTC(2026, 11, 7);

  before(async () => {
    graph = await startGraph();
  });
  after(async () => {
    http.close();
    await graph.close();
  });
  beforeEach(() => {
    graph.mode = 'ok';
    graph.pageSize = 100;
    graph.nextLinkBase = undefined;
    graph.requests.length = 0;
  });

  const failure = async (p: Promise<unknown>, message: RegExp): Promise<GraphGroupsError> => {
    try {
      await p;
    } catch (e) {
      assert.ok(e instanceof GraphGroupsError, String(e));
      assert.equal(e.code, 'groups-unavailable');
      assert.match(e.message, message);
      return e;
    }
    assert.fail('expected a GraphGroupsError');
  };

  test('follows @odata.nextLink through every page; groups only (no directory roles), by object id', async () => {
    graph.members.set('alice', manyGroups(250));
    const groups = await readGraphGroups(graphToken('alice'), opts(), now);
    assert.equal(groups.length, 250);
    assert.equal(groups[0], manyGroups(1)[0]!.id);
    assert.ok(!groups.includes('role-0001'));
    assert.equal(graph.requests.length, 3, 'pages of 100');
    assert.ok(graph.requests.every((r) => r.bearer && r.method === 'GET'));
    assert.match(graph.requests[0]!.url, /^\/v1\.0\/me\/transitiveMemberOf\?\$select=id,displayName/);
  });

  test('a user in no group: an empty list, not an error', async () => {
    assert.deepEqual(await readGraphGroups(graphToken('nobody'), opts(), now), []);
  });

  test('bounded: more pages than GRAPH_MAX_PAGES, or more groups than GRAPH_MAX_GROUPS, is a failure (never a partial list)', async () => {
    graph.members.set('bob', manyGroups(350));
    await failure(readGraphGroups(graphToken('bob'), { ...opts(), maxPages: 3 }, now), /GRAPH_MAX_PAGES \(3\)/);
    assert.equal(graph.requests.length, 3);
    await failure(readGraphGroups(graphToken('bob'), { ...opts(), maxGroups: 300 }, now), /GRAPH_MAX_GROUPS \(300\)/);
  });

  test('401 InvalidAuthenticationToken (a token for another audience) names Graph’s error code, never the token', async () => {
    const token = graphToken('alice', 'api://kubeflow');
    const e = await failure(readGraphGroups(token, opts(), now), /^Graph answered 401 InvalidAuthenticationToken$/);
    assert.ok(!e.message.includes(token));
    assert.equal(e.retryAfterSeconds, undefined);
  });

  test('503 and 429 carry Graph’s Retry-After', async () => {
    graph.mode = 'down';
    graph.retryAfter = 12;
    assert.equal((await failure(readGraphGroups(graphToken('alice'), opts(), now), /503 serviceNotAvailable/)).retryAfterSeconds, 12);
    graph.mode = 'throttled';
    assert.equal((await failure(readGraphGroups(graphToken('alice'), opts(), now), /429 TooManyRequests/)).retryAfterSeconds, 12);
    assert.equal(retryAfterSeconds(new Date(now + 30_000).toUTCString(), now), 30);
  });

  test('a next link to another origin is refused: the token goes to GRAPH_URL only', async () => {
    graph.members.set('carol', manyGroups(150));
    graph.nextLinkBase = 'http://127.0.0.2:9';
    await failure(readGraphGroups(graphToken('carol'), opts(), now), /nextLink points away/);
    assert.equal(graph.requests.length, 1);
  });

  test('Graph out of reach', async () => {
    await failure(readGraphGroups(graphToken('alice'), { ...opts(), baseUrl: 'http://127.0.0.1:9' }, now), /could not be reached \(network\)/);
  });
});
