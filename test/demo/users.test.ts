import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loginPage } from '../../src/demo/login-page.js';
import { authenticate, DEMO_USERS, findUser, userClaims } from '../../src/demo/users.js';

describe('demo users and the sign-in page', () => {
  it('has two users in different groups', () => {
    const [alice, bob] = DEMO_USERS;
    assert.equal(alice?.email, 'alice@example.com');
    assert.deepEqual(alice?.groups, ['admins', 'staff']);
    assert.equal(bob?.email, 'bob@example.com');
    assert.deepEqual(bob?.groups, ['guests']);
    assert.deepEqual(Object.keys(userClaims(alice!)).sort(), ['email', 'email_verified', 'groups', 'name', 'preferred_username', 'sub']);
  });

  it('finds users by email or username, any case, and checks passwords', () => {
    assert.equal(findUser(DEMO_USERS, ' ALICE@example.com ')?.sub, 'alice');
    assert.equal(findUser(DEMO_USERS, 'Bob')?.sub, 'bob');
    assert.equal(findUser(DEMO_USERS, ''), undefined);
    assert.equal(authenticate(DEMO_USERS, 'alice', 'alice-demo')?.sub, 'alice');
    assert.equal(authenticate(DEMO_USERS, 'alice', 'bob-demo'), undefined);
    assert.equal(authenticate(DEMO_USERS, 'nobody', 'alice-demo'), undefined);
    assert.equal(authenticate(DEMO_USERS, 'alice', ''), undefined);
  });

  it('escapes the reflected username, the error and the client name', () => {
    const hostile = '"><script>alert(1)</script>';
    const page = loginPage({
      action: '/interaction/abc',
      abortAction: '/interaction/abc/abort',
      clientName: hostile,
      users: DEMO_USERS,
      error: hostile,
      username: hostile,
    });
    assert.ok(!page.html.includes('<script>'));
    assert.ok(page.html.includes('value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"'));
    assert.match(page.csp, /script-src 'none'/);
    assert.match(page.csp, /default-src 'none'/);
  });
});
