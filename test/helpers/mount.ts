/**
 * A mounted ConfigMap or Secret lookalike, as the kubelet updates one: every file is a symlink
 * through `..data`, which points at a hidden directory; an update writes a new hidden directory and
 * swaps `..data` atomically (a rename). What live-reload tests change files through.
 */
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A mounted-volume lookalike: `<dir>/<file>` → `..data/<file>`, `..data` → `..<n>`, swapped atomically. */
export class Mount {
  readonly dir = mkdtempSync(join(tmpdir(), 'judge-mount-'));
  #n = 0;
  constructor(files: Record<string, string>, names: readonly string[]) {
    this.swap(files);
    for (const name of names) symlinkSync(join('..data', name), join(this.dir, name));
  }
  swap(files: Record<string, string>): void {
    const next = `..${++this.#n}`;
    mkdirSync(join(this.dir, next));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, next, name), text);
    symlinkSync(next, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
  }
  path(name: string): string {
    return join(this.dir, name);
  }
}
