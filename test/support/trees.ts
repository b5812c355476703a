/**
 * Test helper (never a test itself): what a directory tree holds, as comparable records — kinds,
 * modes, contents (sha256), link targets, hardlink groups, and on request owners, file mtimes and
 * extended attributes (overlayfs's own left out).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { readTreeXattrs } from '../../src/fs/index.js';

export interface TreeRecord {
  readonly path: string;
  readonly type: string;
  readonly mode: number;
  readonly content: string;
  readonly mtime?: number;
  readonly owner?: string;
  readonly xattrs?: string;
}

export interface DescribeOptions {
  /** Seconds-resolution mtimes of everything but symlinks (and directories, unless `directoryMtimes`). */
  readonly mtimes: boolean;
  readonly directoryMtimes?: boolean;
  readonly owners?: boolean;
  readonly xattrs?: boolean;
}

export async function describeTree(path: string, options: DescribeOptions): Promise<TreeRecord[]> {
  const xattrs = options.xattrs === true ? await readTreeXattrs({ root: path }) : new Map();
  const records: TreeRecord[] = [];
  const inodes = new Map<number, string>();
  const walk = (directory: string, prefix: string): void => {
    for (const name of readdirSync(directory).sort()) {
      const full = join(directory, name);
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      const stats = lstatSync(full);
      const type = stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : stats.isFile() ? 'file' : 'other';
      let content = '';
      if (type === 'symlink') content = readlinkSync(full);
      if (type === 'file') {
        const first = stats.nlink > 1 ? inodes.get(stats.ino) : undefined;
        content = first !== undefined ? `hardlink of ${first}` : createHash('sha256').update(readFileSync(full)).digest('hex');
        if (stats.nlink > 1 && first === undefined) inodes.set(stats.ino, relative);
      }
      const mtime = options.mtimes && type !== 'symlink' && (type !== 'dir' || options.directoryMtimes !== false) ? { mtime: Math.floor(stats.mtimeMs / 1000) } : {};
      const attributes = [...(xattrs.get(relative) ?? new Map<string, Buffer>())].filter(([key]) => !key.includes('.overlay.')).map(([key, value]) => `${key}=${value.toString('base64')}`);
      records.push({
        path: relative,
        type,
        mode: type === 'symlink' ? 0 : stats.mode & 0o7777,
        content,
        ...mtime,
        ...(options.owners === true ? { owner: `${stats.uid}:${stats.gid}` } : {}),
        ...(attributes.length > 0 ? { xattrs: attributes.sort().join(' ') } : {}),
      });
      if (type === 'dir') walk(full, relative);
    }
  };
  walk(path, '');
  return records;
}
