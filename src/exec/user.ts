/**
 * USER resolution with BuildKit's semantics: its fast path for a numeric `uid:gid`, then
 * moby/sys/user's GetExecUser over the rootfs's /etc/passwd and /etc/group (the caller reads them;
 * `undefined` when the file is absent). Pure.
 */
import { CaissonError } from '../errors.js';
import type { SandboxUser } from './types.js';

export interface ResolveUserOptions {
  /** `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`; empty = root. */
  readonly spec: string;
  readonly passwd?: string;
  readonly group?: string;
  /** Names the instruction in messages, e.g. `Dockerfile:7`. */
  readonly what: string;
}

interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** moby/sys/user's bounds for ids found by lookup (the fast path takes any uint32). */
const MAX_ID = 2 ** 31 - 1;
const MAX_UINT32 = 2 ** 32 - 1;
const HINT = 'create the user in an earlier step (e.g. RUN adduser ...) or use a numeric uid:gid';

/** Go's strconv.Atoi for ids: optional sign, decimal digits only. */
function atoi(text: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(text) ? Number(text) : undefined;
}

function lines(text: string | undefined): string[] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

// Missing fields are empty and malformed numbers 0, as moby/sys/user parses them.
function parsePasswd(text: string | undefined): PasswdEntry[] {
  return lines(text).map((line) => {
    const [name = '', , uid = '', gid = ''] = line.split(':');
    return { name, uid: atoi(uid) ?? 0, gid: atoi(gid) ?? 0 };
  });
}

function parseGroup(text: string | undefined): GroupEntry[] {
  return lines(text).map((line) => {
    const [name = '', , gid = '', list = ''] = line.split(':');
    return { name, gid: atoi(gid) ?? 0, members: list === '' ? [] : list.split(',') };
  });
}

/** The id that /etc/passwd (its uid) or /etc/group (its gid) gives `name`, parsed as resolveUser parses them. */
export function lookupId(options: { readonly table: 'passwd' | 'group'; readonly text: string | undefined; readonly name: string }): number | undefined {
  const ids = options.table === 'passwd' ? parsePasswd(options.text).map((entry) => ({ name: entry.name, id: entry.uid })) : parseGroup(options.text).map((entry) => ({ name: entry.name, id: entry.gid }));
  return ids.find((entry) => entry.name === options.name)?.id;
}

/** BuildKit's parseUID: `root` or a decimal uint32. */
function fastId(text: string): number | undefined {
  if (text === 'root') return 0;
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = Number(text);
  return value <= MAX_UINT32 ? value : undefined;
}

function fail(what: string, message: string): CaissonError {
  return new CaissonError({ code: 'ERR_BUILD_USER', message: `${what}: ${message}`, hint: HINT });
}

function checkRange(what: string, id: number): number {
  if (id < 0 || id > MAX_ID) throw fail(what, `uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

/** The uid, gid and supplementary gids a `USER` spec stands for in this rootfs. */
export function resolveUser(options: ResolveUserOptions): SandboxUser {
  const { spec, what } = options;
  if (spec === '') return { uid: 0, gid: 0, additionalGids: [] };
  // BuildKit's fast path (oci.GetUser → ParseUIDGID): both parts numeric (or `root`), no lookup.
  const colon = spec.indexOf(':');
  if (colon >= 0) {
    const uid = fastId(spec.slice(0, colon));
    const gid = fastId(spec.slice(colon + 1));
    if (uid !== undefined && gid !== undefined) return { uid, gid, additionalGids: [] };
  }
  // moby/sys/user GetExecUser: "user[:group]", extra colon-separated parts ignored.
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);
  let uid = 0;
  let gid = 0;
  let additionalGids: number[] = [];
  const matched = parsePasswd(options.passwd).find((entry) => {
    if (userArg === '') return entry.uid === 0;
    return uidArg !== undefined ? entry.uid === uidArg : entry.name === userArg;
  });
  const matchedName = matched?.name ?? '';
  if (matched !== undefined) {
    uid = matched.uid;
    gid = matched.gid;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw fail(what, `unable to find user ${userArg}: no matching entries in passwd file`);
    uid = checkRange(what, uidArg);
  }
  if (groupArg !== '' || matchedName !== '') {
    const groups = parseGroup(options.group).filter((entry) => {
      if (groupArg === '') return entry.members.includes(matchedName);
      return gidArg !== undefined ? entry.gid === gidArg : entry.name === groupArg;
    });
    if (groupArg !== '') {
      const first = groups[0];
      if (first !== undefined) gid = first.gid;
      else if (gidArg === undefined) throw fail(what, `unable to find group ${groupArg}: no matching entries in group file`);
      else gid = checkRange(what, gidArg);
    } else {
      additionalGids = groups.map((entry) => entry.gid);
    }
  }
  return { uid, gid, additionalGids };
}
