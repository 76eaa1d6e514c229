/**
 * Reads the provider recipes out of docs/providers.md, so the tests load exactly what the page
 * tells people to set: each ```env recipe=<name>``` block is `NAME=value` lines (`#` comments),
 * and an optional ```yaml recipe=<name>``` block is that recipe's config file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/paths.js';

export interface Recipe {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly yaml?: string;
}

export const PROVIDERS_DOC = join(projectRoot, 'docs', 'providers.md');

/** Every recipe of the page, by name; a block that is not `NAME=value` lines throws. */
export function readRecipes(text = readFileSync(PROVIDERS_DOC, 'utf8')): ReadonlyMap<string, Recipe> {
  const envs = new Map<string, Record<string, string>>();
  const yamls = new Map<string, string>();
  for (const m of text.matchAll(/^```(env|yaml) recipe=([a-z0-9-]+)\n([\s\S]*?)^```$/gm)) {
    const [, kind, name = '', body = ''] = m;
    if (kind === 'yaml') {
      yamls.set(name, body);
      continue;
    }
    if (envs.has(name)) throw new Error(`recipe ${name}: two env blocks`);
    const env: Record<string, string> = {};
    for (const line of body.split('\n')) {
      if (line.trim() === '' || line.startsWith('#')) continue;
      const kv = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!kv) throw new Error(`recipe ${name}: not NAME=value: ${line}`);
      if (kv[1]! in env) throw new Error(`recipe ${name}: ${kv[1]} twice`);
      env[kv[1]!] = kv[2]!;
    }
    envs.set(name, env);
  }
  for (const name of yamls.keys()) if (!envs.has(name)) throw new Error(`yaml recipe ${name} has no env block`);
  return new Map(
    [...envs].map(([name, env]) => {
      const yaml = yamls.get(name);
      return [name, { name, env, ...(yaml !== undefined ? { yaml } : {}) }];
    }),
  );
}

/** The file a recipe's `CLIENT_SECRET_FILE` names, and what the tests read there. */
export const SECRET_FILE = '/etc/oidc-judge/client-secret';
export const SECRET = 'recipe-client-secret-value\n';
