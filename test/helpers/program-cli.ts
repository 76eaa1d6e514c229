/**
 * The real `oidc-judge login | token | logout` in a child process (the build's `src/cli.js`), with
 * its own config directory: tests read what it prints (the URL to open, the user code) as it
 * prints it, and its exit.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface CliRun {
  /** Resolves with the first match of `re` in stderr (now or once printed). */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  readonly done: Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>;
  kill(): void;
}

export function runCli(args: readonly string[], configHome: string): CliRun {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: configHome, XDG_CONFIG_HOME: configHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = w.re.exec(stderr);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  proc.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    check();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on('close', (code) => {
      for (const w of waiters.splice(0)) w.resolve(Object.assign([`(exited ${code}) ${stderr}`], { index: -1, input: stderr }) as RegExpExecArray);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    waitFor: (re) =>
      new Promise((resolve) => {
        waiters.push({ re, resolve });
        check();
      }),
    done,
    kill: () => void proc.kill('SIGKILL'),
  };
}

/** Runs the CLI to its end. */
export function cli(args: readonly string[], configHome: string): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> {
  return runCli(args, configHome).done;
}
