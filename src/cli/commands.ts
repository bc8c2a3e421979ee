import type { Command } from 'commander';
import { registerHealth } from './health.js';
import { registerInspect } from './inspect.js';
import { registerMedia } from './media.js';
import { registerMigrate } from './migrate.js';
import { registerBackup } from './backup.js';
import { registerPurge } from './purge.js';
import { registerDiff } from './diff.js';
import { registerUsage } from './usage.js';
import { registerMessages } from './messages.js';

/** Command groups; each registers its commands and imports its heavy modules only when run. */
export const COMMANDS: ((program: Command) => void)[] = [registerInspect, registerHealth, registerMedia, registerMigrate, registerBackup, registerPurge, registerDiff, registerMessages, registerUsage];
