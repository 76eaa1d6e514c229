/**
 * The Dockerfile (no Docker engine runs here, so it is read, not built): multi-stage on one base
 * image so better-sqlite3's compiled addon matches the runtime's Node.js and glibc; `npm ci` with dev
 * dependencies only where TypeScript is compiled; production dependencies only in what ships;
 * a numeric non-root user matching the chart; the ports the service listens on; and a build
 * context (.dockerignore) holding what the COPY lines need and nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { schema } from '../../src/config/schema.js';
import { projectRoot } from '../../src/paths.js';
import { chartValues } from './chart.js';

interface Stage {
  readonly name: string;
  readonly from: string;
  readonly lines: string[];
}

/** Instructions with `\` continuations joined, comments dropped; then split into stages. */
function stages(text: string): { args: string[]; stages: Stage[] } {
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: string[] = [];
  const out: Stage[] = [];
  for (const line of instructions) {
    const m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (m) out.push({ from: m[1]!, name: m[2] ?? `#${out.length}`, lines: [] });
    else if (out.length === 0) args.push(line);
    else out[out.length - 1]!.lines.push(line);
  }
  return { args, stages: out };
}

const dockerfile = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
const { args, stages: all } = stages(dockerfile);
const stage = (name: string): Stage => {
  const s = all.find((x) => x.name === name);
  assert.ok(s, `a stage named ${name}`);
  return s;
};
/** The image a stage finally starts from, following stage names. */
const base = (s: Stage): string => {
  const parent = all.find((x) => x.name === s.from);
  return parent ? base(parent) : s.from;
};
const runs = (s: Stage): string => s.lines.filter((l) => l.startsWith('RUN ')).join('\n');

describe('Dockerfile', () => {
  it('builds in stages that all start from the same Node.js image', () => {
    assert.ok(all.length >= 3, 'build, deps and runtime stages');
    assert.ok(
      args.some((a) => /^ARG NODE_IMAGE=node:24(\.\d+)*-bookworm-slim$/.test(a)),
      'the base image is one ARG: Node 24 (the Active LTS), Debian bookworm, slim',
    );
    for (const s of all) assert.equal(base(s), '${NODE_IMAGE}', `stage ${s.name}`);
    assert.equal(all[all.length - 1]!.name, 'runtime');
  });

  it('compiles with every dependency from the lockfile, ships production dependencies only', () => {
    const build = runs(stage('build'));
    assert.match(build, /npm ci\b/);
    assert.match(build, /tsc -p tsconfig\.json/);
    const deps = runs(stage('deps'));
    assert.match(deps, /npm ci [^\n]*--omit=dev/);
    assert.match(deps, /npm rebuild better-sqlite3/, 'the native addon is compiled for this image');
    assert.doesNotMatch(dockerfile, /npm install\b/, 'npm ci only: the lockfile decides');
    const runtime = stage('runtime');
    assert.ok(runtime.lines.includes('COPY --from=deps /app/node_modules ./node_modules'), 'node_modules from the production-only stage');
    assert.ok(runtime.lines.includes('COPY --from=build /app/dist/src ./dist/src'), 'only the compiled sources, not the tests');
    assert.doesNotMatch(runs(runtime), /\bnpm\b|apt-get|g\+\+|\bmake\b/, 'no package manager or compiler runs in the runtime stage');
    for (const needed of ['package.json', 'proto', 'templates']) {
      assert.ok(
        runtime.lines.some((l) => new RegExp(`^COPY ${needed}\\b`).test(l)),
        `${needed} (src/paths.ts finds the project root by package.json and proto/)`,
      );
    }
    assert.ok(!runtime.lines.some((l) => /^COPY \.\s/.test(l)), 'never the whole context');
  });

  it('runs as a numeric non-root user, the one the chart declares', () => {
    const users = stage('runtime').lines.filter((l) => l.startsWith('USER '));
    assert.equal(users.length, 1);
    const m = /^USER (\d+)(?::(\d+))?$/.exec(users[0]!);
    assert.ok(m, 'numeric, so Kubernetes can check runAsNonRoot');
    assert.notEqual(Number(m[1]), 0);
    const pod = chartValues()['podSecurityContext'] as Record<string, number>;
    assert.equal(Number(m[1]), pod['runAsUser']);
    assert.equal(Number(m[2]), pod['runAsGroup']);
    const storeDir = String(schema.sessionStorePath.default).replace(/\/[^/]+$/, '');
    assert.ok(
      runs(stage('runtime')).includes(`mkdir -p ${storeDir} && chown ${m[1]}:${m[2]} ${storeDir}`),
      'the default SQLite directory is writable by that user',
    );
  });

  it('puts `oidc-judge` on PATH: the compiled cli.js, executable, linked into /usr/local/bin', () => {
    const build = runs(stage('build'));
    assert.match(build, /chmod 755 dist\/src\/cli\.js/, 'cli.js is executable (its #! line names node)');
    assert.match(runs(stage('runtime')), /ln -s \/app\/dist\/src\/cli\.js \/usr\/local\/bin\/oidc-judge/);
    assert.match(readFileSync(join(projectRoot, 'src/cli.ts'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    assert.equal(pkg.bin['oidc-judge'], 'dist/src/cli.js', 'the same file npm links');
  });

  it('exposes the default ports and starts the service', () => {
    const runtime = stage('runtime');
    const exposed = runtime.lines
      .find((l) => l.startsWith('EXPOSE '))!
      .split(/\s+/)
      .slice(1)
      .map(Number)
      .sort();
    const defaults = [schema.serverPort, schema.grpcPort, schema.webServerPort, schema.readinessProbePort].map((f) => f.default as number).sort();
    assert.deepEqual(exposed, defaults);
    assert.ok(runtime.lines.includes('ENTRYPOINT ["node", "dist/src/cli.js"]'));
    assert.ok(runtime.lines.includes('CMD ["serve"]'));
    assert.ok(runtime.lines.includes('ENV NODE_ENV=production'));
  });

  it('.dockerignore sends what the COPY lines need and leaves out the rest', () => {
    const rules = readFileSync(join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(rules[0], '**', 'everything is excluded first');
    const included = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/\*\*$/, '')));
    const copied = all.flatMap((s) => s.lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1)));
    assert.deepEqual(
      copied.filter((c) => !included.has(c.replace(/\/$/, ''))),
      [],
      'COPY sources the context lacks',
    );
    for (const never of ['node_modules', 'dist', '.build', '.git', 'test', 'helm', '.env']) assert.ok(!included.has(never), `${never} stays out`);
  });
});
