#!/usr/bin/env node
// Makes sure the Debian packages the tests drive for real are installed: as root it runs
// apt-get itself; otherwise it says exactly what to install and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** binary that proves the package is there → Debian package */
export const NEEDED = [
  ['/usr/sbin/nginx', 'nginx-light'],
  ['/usr/bin/openssl', 'openssl'],
  ['/usr/bin/redis-server', 'redis-server'],
  ['/usr/bin/chromium', 'chromium'],
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 'fonts-dejavu-core'],
];

export function ensureSystemDeps(needed = NEEDED) {
  const missing = needed.filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(
      `The tests need these Debian packages: ${missing.join(' ')}\nInstall them with:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
    process.exit(2);
  }
  console.log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed with exit code ${r.status}`);
  };
  run(['update', '-qq']);
  run(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  // Debian starts services it installs; the tests start their own on free ports.
  for (const svc of ['nginx', 'redis-server']) spawnSync('service', [svc, 'stop'], { stdio: 'ignore' });
  void execFileSync;
}

if (import.meta.url === `file://${process.argv[1]}`) ensureSystemDeps();
