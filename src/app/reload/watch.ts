/**
 * What a reload reads, watched: the config file, the `*_FILE` secrets, the CA bundle, the template
 * directories. Kubernetes updates a mounted ConfigMap or Secret by writing a new hidden directory
 * and swapping the `..data` symlink, so the files themselves never change in place: the watch is on
 * each file's directory, any event there asks for a reload, and the reload compares the content
 * hash of everything watched with the running one (`contentHash`) — events that change nothing
 * cost a read.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One hash of the contents of `paths` (a directory: its files, one level); a missing path hashes as missing. */
export function contentHash(paths: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of paths) {
    h.update(`\0${p}\0`);
    try {
      if (statSync(p).isDirectory()) {
        for (const name of readdirSync(p).sort()) {
          const f = join(p, name);
          if (statSync(f).isFile()) h.update(`\0${name}\0`).update(readFileSync(f));
        }
      } else h.update(readFileSync(p));
    } catch {
      h.update('\0missing\0');
    }
  }
  return h.digest('hex');
}

/** Calls `onEvent` on any change in the directories of `paths` (and in `paths` that are directories). */
export function watchPaths(paths: readonly string[], onEvent: () => void): { close(): void } {
  const dirs = new Set<string>();
  for (const p of paths) {
    dirs.add(dirname(p));
    try {
      if (statSync(p).isDirectory()) dirs.add(p);
    } catch {
      // Not there yet: its directory is watched.
    }
  }
  const watchers: FSWatcher[] = [];
  for (const d of dirs) {
    try {
      const w = watch(d, { persistent: false }, () => onEvent());
      w.on('error', () => undefined);
      watchers.push(w);
    } catch {
      // A directory that does not exist cannot be watched; SIGHUP still reloads.
    }
  }
  return {
    close: () => {
      for (const w of watchers) w.close();
    },
  };
}
