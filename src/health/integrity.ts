/**
 * `sessions.integrity` (extended): every local session's auth is readable and every NOWEB
 * `creds.json` parses. Deliberately small: it walks `<sessions dir>/<namespace>/<session>/`
 * one folder at a time (flat memory for thousands of sessions) and keeps the first problems.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCreds } from '../sessions/engines/noweb.js';
import type { CheckDetail } from './result.js';

export interface IntegrityProblem {
  session: string;
  problem: string;
}

const MAX_PROBLEMS = 20;

export async function checkSessionsIntegrity(sessionsDir: string): Promise<CheckDetail> {
  const base = path.resolve(sessionsDir);
  let sessions = 0;
  let creds = 0;
  let problemCount = 0;
  const problems: IntegrityProblem[] = [];
  const report = (session: string, problem: string) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS) problems.push({ session, problem });
  };
  for await (const namespace of folders(base, report, '.')) {
    for await (const session of folders(path.join(base, namespace), report, namespace)) {
      sessions++;
      const name = `${namespace}/${session}`;
      const result = await readCreds(path.join(base, namespace, session, 'creds.json'));
      if (result === 'absent') continue;
      creds++;
      if (result !== 'ok') report(name, result);
    }
  }
  const detail: CheckDetail = { status: problemCount ? 'down' : 'up', path: base, sessions, creds, problems: problemCount };
  if (problemCount) {
    detail.reason = 'unreadable';
    detail.first = problems;
    detail.detail = `${problemCount} session(s) with unreadable auth, e.g. ${problems[0]!.session}: ${problems[0]!.problem}`;
  }
  return detail;
}

/** Subfolders, one directory entry at a time; a folder that does not exist has none. */
async function* folders(dir: string, report: (where: string, problem: string) => void, label: string): AsyncGenerator<string> {
  let handle;
  try {
    handle = await fs.opendir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(label, `cannot list ${dir}: ${(error as NodeJS.ErrnoException).code}`);
    return;
  }
  for await (const entry of handle) {
    if (entry.isDirectory()) yield entry.name;
  }
}

async function readCreds(file: string): Promise<'ok' | 'absent' | string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'absent' : `creds.json is not readable (${code})`;
  }
  const creds = parseCreds(text);
  return creds.ok ? 'ok' : creds.error;
}
