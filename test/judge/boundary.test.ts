import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../src/paths.js';

const src = join(projectRoot, 'src');
const SPEC = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The folders the core must not import: its plug-ins, the wiring, and everything built on the core. */
const ABOVE_THE_CORE = ['app', 'authn', 'authz', 'config', 'demo', 'forward', 'kube', 'oidc', 'sessions', 'web'];

describe('the core owns its ports (issue 15)', () => {
  it('src/judge/ imports no plug-in, no config and no wiring: they depend on judge/ports.ts, not the other way', () => {
    const broken: string[] = [];
    for (const file of tsFiles(join(src, 'judge'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
        const to = relative(src, resolve(dirname(file), m[1] ?? ''));
        const folder = to.split('/')[0] ?? '';
        if (ABOVE_THE_CORE.includes(folder)) broken.push(`${relative(src, file)} imports ${to}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('no import cycles among src/ files (scripts/import-cycles.mjs)', () => {
    const r = spawnSync(process.execPath, [join(projectRoot, 'scripts/import-cycles.mjs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
