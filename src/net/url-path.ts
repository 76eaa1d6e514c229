/**
 * The path of a setting that may be a path or an absolute URL (`AUTHSERVICE_URL_PREFIX`,
 * `VERIFY_AUTH_URL` …), read one way by the config checks, the judge and the web server.
 */

/** The path part of a URL or path setting: `https://x/authservice/` → `/authservice/`. */
export function pathOf(urlOrPath: string): string {
  if (urlOrPath.startsWith('/')) return urlOrPath.split(/[?#]/)[0] ?? '/';
  try {
    return new URL(urlOrPath).pathname;
  } catch {
    return urlOrPath;
  }
}
