/**
 * The import boundaries of ARCHITECTURE.md, checked on every src file: arrows point inward (front doors, the
 * forwarder and the wiring import the core, never the other way), plug-ins see the judge only through its ports,
 * front doors do not import each other, forwarder modes sit on the engine alone, only main.ts reads the
 * environment, and no import cycles. A failure names the rule, the importing file and the imported one.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { cycles, envViolations, importViolations, key, matches, type Rule, type Violation } from './helpers/boundary-check.js';
import { importGraph } from './helpers/source-scan.js';

/**
 * The core — what the front doors build on and what may never depend on them: the judge pipeline and its ports
 * (judge/, minus the two front doors in judge/grpc/ and judge/http/), the plug-ins behind the ports (authn/, authz/),
 * sessions/, the OIDC flows (oidc/), and the infrastructure all of them use: obs/ (logs, metrics, the health
 * listener), net/, kube/ (the Kubernetes API client), config/ (the schema and its rules; the loader config/load.ts
 * reads files and flags, so it is wiring), signing/ (keys, identity assertions, their JWKS), clock.ts, paths.ts and the error catalogue errors.ts.
 */
const CORE = [
  'src/judge/**',
  'src/authn/**',
  'src/authz/**',
  'src/sessions/**',
  'src/oidc/**',
  'src/obs/**',
  'src/net/**',
  'src/kube/**',
  'src/config/**',
  'src/signing/**',
  'src/clock.ts',
  'src/paths.ts',
  'src/errors.ts',
];
const GRPC = 'src/judge/grpc/**';
const HTTP = 'src/judge/http/**';
const WEB = 'src/web/**';
const FORWARDER = 'src/forward/**';
const CONFIG_LOADER = 'src/config/load.ts';
const NOT_CORE = [GRPC, HTTP, CONFIG_LOADER];
/** The composition root and everything that builds the service from the config (app.ts until it becomes app/). */
const WIRING = ['src/main.ts', 'src/cli.ts', 'src/cli-*.ts', 'src/workers.ts', 'src/app/**', 'src/app.ts', 'src/demo/**'];
const FRONT_DOORS = [GRPC, HTTP, WEB, FORWARDER];
/** The forwarder's modes, and an ingress/ folder if the restructure gives the ingress forwarder one (optional). */
const MODES = ['verify', 'egress', 'kube-proxy', 'metadata', 'ingress'];
const OPTIONAL_GLOBS = ['src/forward/ingress/**'];

/** The files that may import OpenTelemetry: the SDK adapter, and the wiring's exporter factory. */
const OTEL_ADAPTERS = ['src/obs/trace/otel.ts', 'src/app/trace-exporter.ts'];

const RULES: readonly Rule[] = [
  { name: 'core-no-front-door', from: CORE, fromExcept: NOT_CORE, forbid: [GRPC, HTTP] },
  { name: 'core-no-forwarder', from: CORE, fromExcept: NOT_CORE, forbid: [FORWARDER] },
  { name: 'core-no-web', from: CORE, fromExcept: NOT_CORE, forbid: [WEB] },
  { name: 'core-no-config-loader', from: CORE, fromExcept: NOT_CORE, forbid: [CONFIG_LOADER] },
  { name: 'core-no-wiring', from: CORE, fromExcept: NOT_CORE, forbid: WIRING },
  { name: 'core-no-transport-package', from: CORE, fromExcept: NOT_CORE, forbid: ['package:express', 'package:express/**', 'package:@grpc/**'] },
  // Plug-ins see the judge through its ports, plus the request-matching kit access rules share with skip rules.
  {
    name: 'plugins-see-judge-ports-only',
    from: ['src/authn/**', 'src/authz/**'],
    forbid: ['src/judge/**'],
    forbidExcept: ['src/judge/ports.ts', 'src/judge/match.ts', 'src/judge/regex.ts', 'src/judge/method-override.ts'],
  },
  { name: 'judge-no-plugins', from: ['src/judge/**'], fromExcept: [GRPC, HTTP], forbid: ['src/authn/**', 'src/authz/**'] },
  ...FRONT_DOORS.map((door): Rule => ({ name: 'front-doors-apart', from: [door], forbid: FRONT_DOORS.filter((d) => d !== door) })),
  ...MODES.map(
    (mode): Rule => ({
      name: 'mode-on-engine-and-core-only',
      from: [`src/forward/${mode}/**`],
      allow: [`src/forward/${mode}/**`, 'src/forward/engine/**', ...CORE, 'package:**'],
      allowExcept: NOT_CORE,
    }),
  ),
  { name: 'engine-no-mode-or-runtime', from: ['src/forward/engine/**'], forbid: [FORWARDER], forbidExcept: ['src/forward/engine/**'] },
  // Traces: the OpenTelemetry SDK sits behind the tracing port (obs/trace/port.ts), loaded by the wiring only when configured.
  { name: 'otel-behind-trace-port', from: ['src/**'], fromExcept: OTEL_ADAPTERS, forbid: ['package:@opentelemetry/**'] },
  { name: 'otel-loaded-by-wiring-only', from: ['src/**'], fromExcept: ['src/app/tracing.ts'], forbid: OTEL_ADAPTERS },
];
const ENV_RULE = 'env-only-in-main';
const CYCLE_RULE = 'no-import-cycles';

/**
 * Today's breaches, each fixed by the restructuring under way (issue 15). This list must shrink to empty: an entry
 * that no longer breaks fails the test below, so whoever fixes one removes it here.
 */
const PENDING: readonly string[] = [];

/** `from` globs that match no file yet, because the layout they guard is still being built; empty at the end too. */
const PENDING_GLOBS: readonly string[] = [];

const root = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string, out: Map<string, string>): Map<string, string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts')) out.set(relative(root, p).split(sep).join('/'), readFileSync(p, 'utf8'));
  }
  return out;
}

/** Every breach of the table, the environment rule and the cycle rule, in a file set. */
function check(sources: ReadonlyMap<string, string>): Violation[] {
  const graph = importGraph(sources);
  assert.deepEqual(graph.problems, [], 'imports the boundary test cannot follow');
  return [...importViolations(graph, RULES), ...envViolations(sources, ENV_RULE, ['src/main.ts']), ...cycles(graph, CYCLE_RULE)];
}

describe('import boundaries (ARCHITECTURE.md)', () => {
  const sources = sourceFiles(join(root, 'src'), new Map());
  let memo: string[] | undefined;
  const breaches = (): string[] => (memo ??= check(sources).map(key));

  it('holds every rule, apart from the PENDING list', () => {
    const found = breaches();
    const pending = new Set(PENDING);
    const fresh = found.filter((k) => !pending.has(k));
    assert.deepEqual(fresh, [], `new boundary breaches (rule: importing file -> imported file):\n  ${fresh.join('\n  ')}\n`);
  });

  it('keeps no PENDING entry that no longer breaks (the list only shrinks)', () => {
    const found = new Set(breaches());
    const stale = PENDING.filter((k) => !found.has(k));
    assert.deepEqual(stale, [], 'fixed: remove these from PENDING in test/boundaries.test.ts');
  });

  it('guards real folders: every rule and PENDING_GLOBS entry matches some file, or is pending', () => {
    const files = [...sources.keys()];
    const empty = [...new Set(RULES.flatMap((r) => r.from))].filter((g) => !OPTIONAL_GLOBS.includes(g) && !files.some((f) => matches(f, [g])));
    assert.deepEqual(empty.sort(), [...PENDING_GLOBS].sort(), 'a rule guards a folder that does not exist (renamed?), or PENDING_GLOBS is stale');
  });
});

describe('the boundary checker', () => {
  const fake = (files: Record<string, string>): Map<string, string> => new Map(Object.entries(files));

  it('names the rule, the importing file and the imported file', () => {
    const found = check(
      fake({
        'src/judge/decide.ts': "import type { Authenticator } from '../authn/types.js';\n// import '../web/app.js' (a comment: not an import)\n",
        'src/authn/types.ts': "export type { Identity } from '../judge/ports.js';\n",
        'src/judge/ports.ts': 'export type Identity = string;\n',
        'src/web/app.ts': 'export const app = 1;\n',
      }),
    );
    assert.deepEqual(found.map(key), ['judge-no-plugins: src/judge/decide.ts -> src/authn/types.ts']);
  });

  it('finds dynamic and type-position imports, process.env in code (not in comments), and cycles', () => {
    const found = check(
      fake({
        'src/main.ts': 'const port = process.env.PORT;\n',
        'src/obs/log.ts': "/* process.env is read in main.ts only */\nconst f = (): typeof import('../web/app.js') => import('../web/app.js');\n",
        'src/web/app.ts': "import { x } from './b.js';\nconst { env } = process;\n",
        'src/web/b.ts': "export * from './app.js';\n",
      }),
    );
    assert.deepEqual(found.map(key), [
      'core-no-web: src/obs/log.ts -> src/web/app.ts',
      'env-only-in-main: src/web/app.ts -> process.env',
      'no-import-cycles: src/web/app.ts -> src/web/b.ts -> src/web/app.ts',
    ]);
  });
});
