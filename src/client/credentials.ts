/**
 * Where `oidc-judge login` keeps a program credential: one JSON file per site URL under the user's
 * config directory (`$XDG_CONFIG_HOME/oidc-judge/` or `~/.config/oidc-judge/`), the directory
 * 0700 and the file 0600 (written to a temporary name, then renamed: never half a file).
 */
import { hash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredCredential {
  readonly url: string;
  readonly accessToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly user?: string;
}

/** The directory of credential files from the environment the composition root passes. */
export function credentialsDir(env: { readonly XDG_CONFIG_HOME?: string | undefined; readonly HOME?: string | undefined }): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? '.', '.config');
  return join(base, 'oidc-judge');
}

/** The site a credential is for: the URL's origin and path, without a trailing slash. */
export function siteOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

function fileOf(dir: string, url: string): string {
  const site = siteOf(url);
  const host = new URL(site).host.replace(/[^A-Za-z0-9.-]/g, '_');
  return join(dir, `${host}-${hash('sha256', site, 'hex').slice(0, 12)}.json`);
}

export function saveCredential(dir: string, c: StoredCredential): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = fileOf(dir, c.url);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...c, url: siteOf(c.url) }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

export function loadCredential(dir: string, url: string): StoredCredential | undefined {
  try {
    const v = JSON.parse(readFileSync(fileOf(dir, url), 'utf8')) as Partial<StoredCredential>;
    if (typeof v.accessToken !== 'string' || typeof v.expiresAt !== 'number' || typeof v.url !== 'string') return undefined;
    return v as StoredCredential;
  } catch {
    return undefined;
  }
}

export function deleteCredential(dir: string, url: string): void {
  rmSync(fileOf(dir, url), { force: true });
}
