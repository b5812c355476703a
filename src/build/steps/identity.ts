/**
 * Users and groups as the stage's own /etc/passwd and /etc/group define them: USER for RUN and
 * WORKDIR (BuildKit's rules, in exec's resolveUser), and COPY/ADD --chown, where a user without a
 * group takes the same number as its gid (Docker's documented rule).
 */
import { CaissonError, formatLocation, type SourceLocation } from '../../errors.js';
import { lookupId, resolveUser, type SandboxUser } from '../../exec/index.js';
import type { Owner } from '../copy-files.js';
import type { LayerView } from '../layer-view.js';

function text(view: LayerView | undefined, path: string): string | undefined {
  return view?.readFile(path)?.toString('utf8');
}

/** The stage's USER as uid, gid and groups; root when USER is unset. */
export function stageUser(options: { readonly user: string | undefined; readonly view: LayerView; readonly location: SourceLocation }): SandboxUser {
  const passwd = text(options.view, 'etc/passwd');
  const group = text(options.view, 'etc/group');
  return resolveUser({ spec: options.user ?? '', what: formatLocation(options.location), ...(passwd === undefined ? {} : { passwd }), ...(group === undefined ? {} : { group }) });
}

/** `--chown=user[:group]` with names looked up in the stage (numbers need no lookup). */
export function chownOwner(options: { readonly spec: string; readonly view: LayerView | undefined; readonly location: SourceLocation }): Owner {
  const [userPart = '', groupPart] = options.spec.split(':');
  const numeric = (value: string): number | undefined => (/^\d+$/.test(value) ? Number(value) : undefined);
  const unknown = (kind: 'user' | 'group', name: string, file: string): CaissonError =>
    new CaissonError({
      code: 'ERR_BUILD_USER',
      message: `--chown=${options.spec}: unable to find ${kind} ${name}: no matching entries in ${file} file`,
      location: options.location,
      hint: `Create the ${kind} in an earlier step, or give numeric ids (--chown=1000:1000).`,
    });
  const uid = numeric(userPart) ?? lookupId({ table: 'passwd', text: text(options.view, 'etc/passwd'), name: userPart });
  if (uid === undefined) throw unknown('user', userPart, '/etc/passwd');
  if (groupPart === undefined || groupPart === '') return { uid, gid: uid };
  const gid = numeric(groupPart) ?? lookupId({ table: 'group', text: text(options.view, 'etc/group'), name: groupPart });
  if (gid === undefined) throw unknown('group', groupPart, '/etc/group');
  return { uid, gid };
}
