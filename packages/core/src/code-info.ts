import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The `code.git` block Python modelstore records when run inside a git work tree. */
export interface GitInfo {
  repository: string;
  sha: string;
  local_changes: boolean;
  branch: string;
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, timeout: 5000, windowsHide: true });
  return stdout.trim();
}

/** Git facts of `cwd`, or `undefined` outside a work tree or without git. Never throws. */
export async function readGitInfo(cwd: string = process.cwd()): Promise<GitInfo | undefined> {
  try {
    if ((await git(cwd, 'rev-parse', '--is-inside-work-tree')) !== 'true') return undefined;
    const [sha, branch, status, remote] = await Promise.all([
      git(cwd, 'rev-parse', 'HEAD'),
      git(cwd, 'rev-parse', '--abbrev-ref', 'HEAD'),
      git(cwd, 'status', '--porcelain'),
      git(cwd, 'config', '--get', 'remote.origin.url').catch(() => ''),
    ]);
    const top = remote || (await git(cwd, 'rev-parse', '--show-toplevel'));
    // As Python modelstore: the repository's name, from its remote URL when it has one.
    const repository = top
      .replace(/\/+$/, '')
      .split(/[/:]/)
      .pop()!
      .replace(/\.git$/, '');
    return { repository, sha, local_changes: status !== '', branch };
  } catch {
    return undefined;
  }
}

/** The user name recorded in `code.user`. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? process.env.USERNAME ?? 'unknown';
  }
}
