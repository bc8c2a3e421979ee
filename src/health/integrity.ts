/**
 * `sessions.integrity` (extended): every local session's auth is readable — NOWEB `creds.json`
 * parses, GOWS `gows.db` opens, folders can be read — judged by the same readers `inspect` uses,
 * so the check and the listing never disagree. Only a session's own trouble counts here; anomalies
 * such as slug collisions are `inspect`'s business.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { plural } from '../util/plural.js';
import type { SessionsConfig } from '../config/config.js';
import { ENGINES } from '../sessions/engines.js';
import type { ProblemCode } from '../sessions/problems.js';
import { inspectLocal } from '../sessions/stores/local/inspect.js';
import type { CheckDetail } from './result.js';

export interface IntegrityProblem {
  session: string;
  problem: string;
}

const MAX_PROBLEMS = 20;
/** Problems that mean the auth could not be read as WAHA would read it. */
const UNREADABLE: ReadonlySet<ProblemCode> = new Set(['creds-corrupt', 'sqlite-unreadable', 'unreadable', 'webjs-zip-corrupt']);

export async function checkSessionsIntegrity(sessions: Pick<SessionsConfig, 'sessionsDir' | 'namespace' | 'sessionNamespace'>): Promise<CheckDetail> {
  const base = path.resolve(sessions.sessionsDir);
  if (!existsSync(base)) return { status: 'up', path: base, sessions: 0, creds: 0, problems: 0 };
  const result = await inspectLocal({ ...sessions, sessionsDir: base, engines: ENGINES, concurrency: 4 });
  const problems: IntegrityProblem[] = [];
  let problemCount = 0;
  let creds = 0;
  for (const session of result.sessions) {
    if (session.details.keysByCategory?.creds || session.problems.some((item) => item.code === 'creds-corrupt')) creds++;
    for (const item of session.problems) {
      if (!UNREADABLE.has(item.code)) continue;
      problemCount++;
      const where = path.relative(base, session.details.location).split(path.sep).slice(0, 2).join('/');
      if (problems.length < MAX_PROBLEMS) problems.push({ session: where, problem: item.message });
    }
  }
  const detail: CheckDetail = { status: problemCount ? 'down' : 'up', path: base, sessions: result.sessions.length, creds, problems: problemCount };
  if (problemCount) {
    detail.reason = 'unreadable';
    detail.first = problems;
    detail.detail = `${plural(problemCount, 'session')} with unreadable auth, e.g. ${problems[0]!.session}: ${problems[0]!.problem}`;
  }
  return detail;
}
