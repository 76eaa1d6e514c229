/**
 * The hostile paths of the "judged path = forwarded path" tests (issue 14), shared by the ingress
 * and `forwarders:` mode tests: for an upstream that routes the raw path (Express), which climb to
 * an `/admin` route, which reach it only after normalization, and which a forwarder refuses.
 */

/** Raw paths an Express router reads as `/admin…` that are `/` once dot segments are resolved. */
export const CLIMBS = ['/admin/../', '/admin/..', '/admin/%2e%2e/', '/admin/%2E%2e', '/admin/./../', '//admin/../', '/public/../admin/../'];
/** Raw paths that are `/admin` only once normalized. */
export const REACH_ADMIN = ['//admin', '/public/../admin', '/x/%2e%2e/admin/', '/./admin', '/%61dmin'];
/** Paths no rewrite keeps unambiguous: 400, and the upstream sees nothing. */
export const REFUSED = [
  '/admin%2f..%2f',
  '/x%2F..%2Fadmin',
  '/admin%5c..',
  '/adm%25%36%39n',
  '/a;x/../admin',
  '/admin/..;/',
  '/a\\..\\admin',
  '/a%00',
  '/a%0d%0ax',
  '/a%zz',
  '/a%',
  '/caf%e9',
  '/a%3b/',
];
