import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json, found by walking up from this module (works from src/ or any build dir). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('oidc-judge: cannot find the project root (package.json with proto/)');
    dir = up;
  }
}

export const projectRoot = findRoot();
export const protoDir = join(projectRoot, 'proto');
export const templatesDir = join(projectRoot, 'templates');
