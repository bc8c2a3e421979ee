/**
 * The archive store: a backup as a tar.gz (optionally age-encrypted) with a manifest and per-entry
 * digests (format.ts). Not a store word: `backup` writes one, `restore` and `diff` read one. Loaded lazily.
 */
export const archive = {
  kind: 'archive' as const,
  description: 'a backup archive: .tar.gz, or .tar.gz.age when encrypted',
  /** Reads an archive as a SessionStore source (restore, diff). */
  source: async () => (await import('./source.js')).ArchiveSource,
  /** Writes sessions into an archive as a SessionStore target (backup). */
  target: async () => (await import('./writer.js')).ArchiveTarget,
  /** backup: transfer into an archive, then verify it. */
  backup: async () => await import('./backup.js'),
  /** backup verify: reads an archive through, checking every digest. */
  read: async () => (await import('./reader.js')).readArchive,
};
