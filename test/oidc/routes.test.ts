import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deny, type Decision } from '../../src/judge/decision.js';
import { targetOf } from '../../src/judge/target.js';
import { backchannelPaths, flowPaths, flowRoutes } from '../../src/oidc/routes.js';
import { judgeRequest } from '../helpers/request.js';

const handlers = {
  login: async (): Promise<Decision> => deny(302, 'login', ''),
  callback: async (): Promise<Decision> => deny(302, 'login-complete', ''),
  logout: async (): Promise<Decision> => deny(201, 'logout', ''),
  switchAccount: async (): Promise<Decision> => deny(302, 'switch-account', ''),
};
const paths = flowPaths({ redirectUrl: '/authservice/oidc/callback', authserviceUrlPrefix: '/authservice/' });

async function answer(routes: ReturnType<typeof flowRoutes>, method: string, path: string): Promise<string | undefined> {
  const req = judgeRequest(path, { method });
  const d = await routes(req, targetOf(req));
  return d?.reason;
}

describe('the login flow’s own routes', () => {
  it('the judge answers GET callback, POST logout and GET login at their full paths only', async () => {
    const judge = flowRoutes(handlers, paths, { alsoUnprefixed: false });
    assert.equal(await answer(judge, 'GET', '/authservice/oidc/callback?code=a&state=b'), 'login-complete');
    assert.equal(await answer(judge, 'POST', '/authservice/logout'), 'logout');
    assert.equal(await answer(judge, 'POST', '/authservice/logout/'), 'logout');
    assert.equal(await answer(judge, 'GET', '/authservice/login?rd=/x'), 'login');
    assert.equal(await answer(judge, 'POST', '/authservice/switch-account?rd=%2Fadmin'), 'switch-account');
    assert.equal(await answer(judge, 'GET', '/authservice/switch-account?rd=%2Fadmin'), undefined, 'it ends a session: POST only');
    assert.equal(await answer(judge, 'GET', '/authservice/logout'), undefined, 'GET logout falls through, as oidc-authservice');
    assert.equal(await answer(judge, 'POST', '/authservice/oidc/callback'), undefined);
    assert.equal(await answer(judge, 'POST', '/logout'), undefined, "an app's own /logout is not ours");
    assert.equal(await answer(judge, 'GET', '/oidc/callback'), undefined);
  });

  it('the web server also answers without the prefix (VirtualService rewrite), and never for ambiguous paths', async () => {
    const web = flowRoutes(handlers, paths, { alsoUnprefixed: true });
    assert.equal(await answer(web, 'GET', '/oidc/callback?code=a'), 'login-complete');
    assert.equal(await answer(web, 'POST', '/logout'), 'logout');
    assert.equal(await answer(web, 'GET', '/login'), 'login');
    assert.equal(await answer(web, 'POST', '/switch-account'), 'switch-account');
    assert.equal(await answer(web, 'POST', '/authservice%2flogout'), undefined);
  });

  it('the back-channel logout receiver: under the prefix; also unprefixed on the web server; behind HTTP_CHECK_PATH_PREFIX on the judge port', () => {
    assert.equal(paths.backchannel, '/authservice/oidc/backchannel-logout');
    assert.deepEqual(backchannelPaths(paths, { alsoUnprefixed: true }), ['/authservice/oidc/backchannel-logout', '/oidc/backchannel-logout']);
    assert.deepEqual(backchannelPaths(paths, { alsoUnprefixed: false, checkPathPrefix: '/ext-authz/' }), [
      '/authservice/oidc/backchannel-logout',
      '/ext-authz/authservice/oidc/backchannel-logout',
    ]);
    const custom = flowPaths({ redirectUrl: 'https://app.example.com/auth/cb', authserviceUrlPrefix: 'https://app.example.com/auth/' });
    assert.equal(custom.backchannel, '/auth/oidc/backchannel-logout');
  });
});
