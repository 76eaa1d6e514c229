/**
 * `oidc-judge login | token | logout --url URL`: a program credential for scripts, SDKs and CI
 * (oidc/programs/ on the judge's side). `login` runs the loopback login (a browser on this machine)
 * or, with `--device`, the device login, and keeps the credential (`credentials.ts`); `token`
 * prints it while it is valid (a credential cannot be renewed: after `PROGRAM_SESSION_MAX_AGE`,
 * `login` again); `logout` revokes it at the judge and deletes the file. Exit codes: 0 done,
 * 1 failed (the reason on stderr).
 */
import { deleteCredential, loadCredential, saveCredential, siteOf } from './credentials.js';
import { deviceLogin } from './device.js';
import { loopbackLogin } from './loopback.js';
import { endpointsOf, postForm, type TokenAnswer } from './oauth.js';

export interface ProgramArgs {
  readonly url: string;
  readonly prefix: string;
  readonly device: boolean;
  readonly clientName: string;
}

export interface ProgramIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The credentials directory (`credentialsDir` of the environment). */
  readonly dir: string;
  readonly now: () => number;
}

/** Seconds before its end from which `token` no longer hands a credential out (a request must not expire on the way). */
const MARGIN_S = 30;
const LOGIN_WAIT_MS = 5 * 60_000;

/** Reads the flags of `login`, `token` and `logout`: the URL is required. */
export function programArgs(flags: Readonly<Record<string, string>>): ProgramArgs | string {
  const url = flags['url'];
  if (url === undefined || url === 'true') return '--url URL is required (the site, e.g. https://kubeflow.example.com)';
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return '--url must be an http(s) URL';
  } catch {
    return `--url is not a URL: ${url}`;
  }
  return {
    url: siteOf(url),
    prefix: flags['prefix'] ?? '/authservice/',
    device: flags['device'] === 'true',
    clientName: flags['client-name'] ?? 'oidc-judge CLI',
  };
}

export async function loginCommand(a: ProgramArgs, io: ProgramIo): Promise<number> {
  let answer: TokenAnswer;
  try {
    answer = a.device
      ? await deviceLogin({
          url: a.url,
          prefix: a.prefix,
          clientName: a.clientName,
          show: (uri, code, complete) =>
            io.err(`To sign in, open ${uri} in any browser and enter the code ${code}${complete !== undefined ? `\n(or open ${complete})` : ''}\n`),
        })
      : await loopbackLogin({
          url: a.url,
          prefix: a.prefix,
          clientName: a.clientName,
          timeoutMs: LOGIN_WAIT_MS,
          show: (url) => io.err(`Open this URL in your browser to sign in:\n  ${url}\n`),
        });
  } catch (e) {
    io.err(`oidc-judge login: ${(e as Error).message}\n`);
    return 1;
  }
  saveCredential(io.dir, {
    url: a.url,
    accessToken: answer.accessToken,
    expiresAt: io.now() + answer.expiresIn * 1000,
    ...(answer.user ? { user: answer.user } : {}),
  });
  io.err(`Signed in${answer.user !== undefined ? ` as ${answer.user}` : ''}; the credential is valid for ${Math.round(answer.expiresIn / 3600)} h.\n`);
  return 0;
}

export function tokenCommand(a: ProgramArgs, io: ProgramIo): number {
  const c = loadCredential(io.dir, a.url);
  if (c === undefined) {
    io.err(`oidc-judge token: not signed in to ${a.url}; run: oidc-judge login --url ${a.url}\n`);
    return 1;
  }
  if (c.expiresAt - MARGIN_S * 1000 <= io.now()) {
    io.err(`oidc-judge token: the credential for ${a.url} has expired; run: oidc-judge login --url ${a.url}\n`);
    return 1;
  }
  io.out(`${c.accessToken}\n`);
  return 0;
}

export async function logoutCommand(a: ProgramArgs, io: ProgramIo): Promise<number> {
  const c = loadCredential(io.dir, a.url);
  if (c === undefined) {
    io.err(`oidc-judge logout: not signed in to ${a.url}\n`);
    return 0;
  }
  try {
    await postForm(endpointsOf(a.url, a.prefix).revoke, { token: c.accessToken });
  } catch (e) {
    io.err(`oidc-judge logout: the judge could not revoke the credential (${(e as Error).message}); it is kept\n`);
    return 1;
  }
  deleteCredential(io.dir, a.url);
  io.err(`Signed out of ${a.url}.\n`);
  return 0;
}
