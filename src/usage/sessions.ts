/** The sessions `usage` measures in a database store: those `inspect` lists, with the problems that explain their figures. */
import type { Problem, ProblemCode } from '../sessions/problems.js';
import type { SessionReport } from '../sessions/report.js';

/** Problems of inspect that say why a session's figures look as they do (no database, a shared one, an orphan). */
const CARRIED: ReadonlySet<ProblemCode> = new Set(['no-auth', 'orphan-database', 'slug-collision', 'engine-unknown', 'unreadable']);

export function carriedProblems(session: SessionReport): Problem[] {
  return session.problems.filter((item) => CARRIED.has(item.code));
}
