import type { Command } from 'commander';

/** Command groups; each registers its commands and imports its heavy modules only when run. */
export const COMMANDS: ((program: Command) => void)[] = [];
