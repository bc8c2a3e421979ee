import type { Command } from 'commander';
import { registerHealth } from './health.js';
import { registerInspect } from './inspect.js';

/** Command groups; each registers its commands and imports its heavy modules only when run. */
export const COMMANDS: ((program: Command) => void)[] = [registerInspect, registerHealth];
