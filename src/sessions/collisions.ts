import { slugCollisions } from './names.js';
import { problem, type Problem } from './problems.js';
import type { SessionReport } from './report.js';

/** Sessions whose names share a database slug; each gets the problem, and one top-level problem per group. */
export function markSlugCollisions(sessions: SessionReport[]): Problem[] {
  const problems: Problem[] = [];
  for (const [slug, names] of slugCollisions(new Set(sessions.map((session) => session.name)))) {
    const message = `sessions ${names.map((name) => `"${name}"`).join(', ')} share the database slug "${slug}"`;
    problems.push(problem('slug-collision', message));
    for (const session of sessions) {
      if (names.includes(session.name)) session.problems.push(problem('slug-collision', message));
    }
  }
  return problems;
}
