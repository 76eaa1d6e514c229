/**
 * What this build is — the package version and the Node.js it runs on — for the places an operator
 * looks: `oidc-judge --version`, the start-up log line, `oidc_judge_build_info` and `/healthz`. The
 * composition root reads package.json once and passes the result down; nothing here reads a file.
 */
export interface BuildInfo {
  /** package.json's `version`. */
  readonly version: string;
  /** `process.version` of the running Node.js, e.g. `v24.11.0`. */
  readonly node: string;
}

/** package.json's text → its version (`unknown` when it has none, so start-up never fails on it). */
export function buildInfoFrom(packageJson: string, node: string): BuildInfo {
  const version = (JSON.parse(packageJson) as { version?: unknown }).version;
  return { version: typeof version === 'string' && version !== '' ? version : 'unknown', node };
}
