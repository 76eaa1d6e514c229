/**
 * The config file's `forwarders:` list → forwarder blocks for the runtime. Each entry is
 * `{ name?, mode, listen, tls?: { certFile, keyFile }, socketMode?, ...modeOptions }`: the common
 * keys are checked here (mode known, listen address valid, TLS files both given and not on a unix
 * socket, socket mode an octal permission, names and listen addresses unique), the rest goes to
 * the mode's own `parse`. Every problem is collected as `forwarders[i].key: problem`.
 */
import { isMapping, OptionReader } from '../../config/block.js';
import { commonBlock as block } from '../../config/forward-blocks/common.js';
import type { ListenSpec, ModeDefinition } from '../engine/mode.js';
import type { ForwarderBlock } from './run.js';
import { parseListenAddress } from './listen.js';

export interface ParsedBlocks {
  readonly blocks: ForwarderBlock[];
  readonly errors: string[];
}

/** `"0755"`, `"755"`, `"0o755"` (octal text) or a number up to 0o777 (YAML `0o755`). */
export function parseSocketMode(v: unknown): number | string {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 0o777) return v;
    return 'must be an octal permission: write it quoted ("0755") or as 0o755 (YAML reads 0755 as decimal)';
  }
  if (typeof v === 'string' && /^(?:0o?)?[0-7]{1,3}$/i.test(v.trim())) return Number.parseInt(v.trim().replace(/^0o?/i, '') || '0', 8);
  return 'must be an octal permission such as "0755"';
}

const COMMON = new Set(Object.keys(block));

function parseListen(r: OptionReader): ListenSpec | undefined {
  const address = r.get(block.listen);
  if (address === undefined) return undefined;
  const addr = parseListenAddress(address);
  if (typeof addr === 'string') return r.fail('listen', addr);
  let tls: ListenSpec['tls'];
  const t = r.sub(block.tls);
  if (t !== undefined) {
    const certFile = t.str('certFile', { nonEmpty: true });
    const keyFile = t.str('keyFile', { nonEmpty: true });
    if (certFile === undefined || keyFile === undefined) r.fail('tls', 'needs both certFile and keyFile');
    else tls = { certFile, keyFile };
    t.done();
    if (addr.kind === 'unix') r.fail('tls', 'cannot be used with a unix-socket listen address');
  }
  let socketMode: number | undefined;
  const m = r.get(block.socketMode);
  if (m !== undefined) {
    const parsed = parseSocketMode(m);
    if (typeof parsed === 'string') r.fail('socketMode', parsed);
    else if (addr.kind !== 'unix') r.fail('socketMode', 'applies only to a unix:/path listen address');
    else socketMode = parsed;
  }
  return { address, ...(tls !== undefined ? { tls } : {}), ...(socketMode !== undefined ? { socketMode } : {}) };
}

/** Parses the `forwarders:` value (`at` names it in messages). */
export function parseForwarderBlocks(raw: unknown, modes: ReadonlyMap<string, ModeDefinition<unknown>>, at = 'forwarders'): ParsedBlocks {
  const errors: string[] = [];
  const blocks: ForwarderBlock[] = [];
  if (raw === undefined || raw === null) return { blocks, errors };
  if (!Array.isArray(raw)) return { blocks, errors: [`${at}: must be a list of forwarder blocks`] };
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    const where = `${at}[${i}]`;
    if (!isMapping(entry)) {
      errors.push(`${where}: must be a mapping`);
      return;
    }
    const r = new OptionReader(entry, where, errors);
    const known = [...modes.keys()];
    const mode = r.get(block.mode);
    const def = mode === undefined ? undefined : modes.get(mode);
    if (mode !== undefined && def === undefined) r.fail('mode', `unknown mode "${mode}" (known: ${known.join(', ')})`);
    const name = r.get(block.name) ?? `${mode ?? 'forwarder'}-${i}`;
    const listen = parseListen(r);
    const rest = Object.fromEntries(Object.entries(entry).filter(([k]) => !COMMON.has(k)));
    const options = def?.parse(rest, where, errors);
    const seenName = names.get(name);
    if (seenName !== undefined) r.fail('name', `"${name}" is already the name of ${at}[${seenName}]`);
    names.set(name, i);
    if (listen !== undefined) {
      const seen = addresses.get(listen.address);
      if (seen !== undefined) r.fail('listen', `${listen.address} is already the listen address of ${at}[${seen}]`);
      addresses.set(listen.address, i);
    }
    if (mode !== undefined && def !== undefined && listen !== undefined) blocks.push({ name, mode, listen, options });
  });
  return { blocks, errors };
}
