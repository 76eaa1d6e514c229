/**
 * How the Redis store lays out its values, and the Lua scripts that read that layout on the
 * server. Both sides of the byte layout live here, together.
 *
 *   session: 0x01 || expiresAt (u64 BE) || u16 BE n || subject (n bytes) || u16 BE m || sid (m bytes) || value
 *   lock:    "<expiresAt>:<random owner token>"
 *   claim:   "<expiresAt>"
 *   secret:  the raw bytes (no expiry)
 *
 * The expiry travels with the value so reads honour the caller's clock (`now`); the Redis TTL
 * (PXAT) is set as well, so Redis cleans up by itself. Every script touches exactly one key, so
 * they run unchanged on Redis Cluster.
 */
import type { SessionIndex } from './session-index.js';

const FORMAT = 0x01;
const HEAD = 9;

function head(expiresAt: number): Buffer {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) throw new TypeError(`expiresAt must be a non-negative integer (epoch ms), got ${expiresAt}`);
  const b = Buffer.alloc(HEAD);
  b[0] = FORMAT;
  b.writeBigUInt64BE(BigInt(expiresAt), 1);
  return b;
}

function field(s: string | undefined): Buffer {
  const bytes = Buffer.from(s ?? '', 'utf8');
  if (bytes.length > 0xffff) throw new RangeError('index value longer than 65535 bytes');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** The 8-byte expiry as written at offset 1 (for `touch`). */
export function expiryBytes(expiresAt: number): Buffer {
  return head(expiresAt).subarray(1);
}

export function encodeSession(value: Uint8Array, expiresAt: number, index: SessionIndex): Buffer {
  return Buffer.concat([head(expiresAt), field(index.subject), field(index.sid), value]);
}

export function decodeSession(b: Buffer): { value: Buffer; expiresAt: number } | undefined {
  if (b.length < HEAD + 4 || b[0] !== FORMAT) return undefined;
  const n = b.readUInt16BE(HEAD);
  const at = HEAD + 2 + n;
  if (b.length < at + 2) return undefined;
  const m = b.readUInt16BE(at);
  const start = at + 2 + m;
  if (b.length < start) return undefined;
  return { value: b.subarray(start), expiresAt: Number(b.readBigUInt64BE(1)) };
}

/** Lua: the expiry of a record whose value is in `v` (or nil). */
const LUA_EXPIRY = `local function expiry(v)
  if not v or string.len(v) < ${HEAD} or string.byte(v, 1) ~= ${FORMAT} then return nil end
  local e = 0
  for i = 2, ${HEAD} do e = e * 256 + string.byte(v, i) end
  return e
end
`;

/** Lua: subject and sid of the session at \`key\`, read piecewise (the value may be large); h = its first ${HEAD + 2} bytes. */
const LUA_INDEX = `local function index(key, h)
  local n = string.byte(h, ${HEAD + 1}) * 256 + string.byte(h, ${HEAD + 2})
  local rest = redis.call('GETRANGE', key, ${HEAD + 2}, ${HEAD + 3} + n)
  if string.len(rest) < n + 2 then return nil, nil end
  local m = string.byte(rest, n + 1) * 256 + string.byte(rest, n + 2)
  local sid = ''
  if m > 0 then sid = redis.call('GETRANGE', key, ${HEAD + 4} + n, ${HEAD + 3} + n + m) end
  return string.sub(rest, 1, n), sid
end
`;

/** Scripts by name (each with exactly one key). */
export const SCRIPTS = {
  /** ARGV: new expiry bytes, now, new expiresAt. Returns {0} or {1, subject, sid}. */
  sessionTouch: `${LUA_EXPIRY}${LUA_INDEX}
local h = redis.call('GETRANGE', KEYS[1], 0, ${HEAD + 1})
local e = expiry(h)
if not e or string.len(h) < ${HEAD + 2} or e <= tonumber(ARGV[2]) then return {0} end
local subject, sid = index(KEYS[1], h)
redis.call('SETRANGE', KEYS[1], 1, ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {1, subject or '', sid or ''}`,

  /**
   * ARGV: 'subject' | 'sid', value, also-subject ('' = any), also-sid ('' = any). Deletes the
   * session only when it carries that index value (and the "also" ones).
   */
  sessionDeleteIfIndexed: `${LUA_INDEX}
local h = redis.call('GETRANGE', KEYS[1], 0, ${HEAD + 1})
if string.len(h) < ${HEAD + 2} or string.byte(h, 1) ~= ${FORMAT} then return 0 end
local subject, sid = index(KEYS[1], h)
local got = subject
if ARGV[1] == 'sid' then got = sid end
if got ~= ARGV[2] then return 0 end
if ARGV[3] and ARGV[3] ~= '' and subject ~= ARGV[3] then return 0 end
if ARGV[4] and ARGV[4] ~= '' and sid ~= ARGV[4] then return 0 end
return redis.call('DEL', KEYS[1])`,

  /** ARGV: new record, its expiresAt, now. Replaces the session only while it is live at `now`. */
  sessionUpdate: `${LUA_EXPIRY}
local e = expiry(redis.call('GETRANGE', KEYS[1], 0, ${HEAD - 1}))
if not e or e <= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1`,

  /** ARGV: expiresAt, now. Records a one-time value unless a record of it is live at `now`. */
  claimOnce: `local v = redis.call('GET', KEYS[1])
if v and tonumber(v) and tonumber(v) > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1`,

  /** KEYS: an index set. ARGV: member, expiresAt. Adds the member; the set lives at least until expiresAt. */
  indexAdd: `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[2])
if ttl >= 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl >= want then return 1 end
end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`,

  /** ARGV: new lock value, now, ttlMs. Takes the lock when free or lapsed at `now`. */
  lockTake: `local v = redis.call('GET', KEYS[1])
if v then
  local e = tonumber(string.match(v, '^(%d+):'))
  if e and e > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`,

  /** ARGV: the lock value the owner set. Deletes only the owner's lock. */
  lockRelease: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
