/** Foreign identity and rewrite headers and the judge's cookies a client sends a forwarder, and the check that none reached the upstream. */
import assert from 'node:assert/strict';

/** Foreign identity and rewrite headers, in odd spellings, and a cookie jar with the judge's cookies. */
export const FOREIGN: Record<string, string> = {
  'X-Forwarded-User': 'root',
  x_forwarded_groups: 'admins',
  'X-Auth-Request-Email': 'root@example.com',
  x_auth_request_whatever: 'root',
  'Remote-User': 'root',
  remote_email: 'root@example.com',
  'X-Remote-User': 'root',
  'X-Vouch-User': 'root',
  'X-Authenticated-User': 'root',
  'X-Original-URI': '/admin',
  'X-Rewrite-URL': '/admin',
  cookie: 'theme=dark; authservice_session=SID; oidc_state_csrf=x; oidc_state_csrf_k1=y',
};
const FOREIGN_NAMES = Object.keys(FOREIGN)
  .map((n) => n.toLowerCase())
  .filter((n) => n !== 'cookie');

export function assertClean(headers: NodeJS.Dict<string[]>, where: string): void {
  for (const n of FOREIGN_NAMES) assert.equal(headers[n], undefined, `${where}: ${n}`);
  assert.deepEqual(headers['cookie'], ['theme=dark'], `${where}: cookie`);
}
