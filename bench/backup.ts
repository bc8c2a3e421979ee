/**
 * bench/backup: `waha-storage backup local` on a generated tree of large WEBJS profiles, against
 * `tar czf` of the same profiles (the peer tool; both gzip at level 6, both one gzip stream).
 *
 *   npm run build && npx tsx bench/backup.ts                           # 32 sessions x 64 MiB = 2 GiB
 *   BENCH_SESSIONS=40 BENCH_MB=256 npx tsx bench/backup.ts              # 10 GiB (needs ~30 GB in $TMPDIR)
 *   BENCH_DIR=/data/tree BENCH_KEEP=1 npx tsx bench/backup.ts           # generate once, reuse the tree
 *   BENCH_MODES=file,stdout,encrypt BENCH_RUNS=3 npx tsx bench/backup.ts
 *
 * Data: LevelDB-like 4 MiB `.ldb` files, half random (incompressible, like Snappy-compressed
 * tables) and half repetitive JSON text. Each command runs under `/usr/bin/time`, which gives its
 * wall time, CPU time (user + sys, children included: tar's gzip) and peak RSS. Modes:
 *   file     backup -o <file>: includes the read-back verification of the archive, which tar does not do
 *   stdout   backup -o - > <file>: no read-back (nothing to read back)
 *   encrypt  backup -o <file> --encrypt: age (scrypt work factor 18 needs 256 MiB once, at the start)
 * With BENCH_RUNS > 1 the fastest run of each command is shown (the machine may be shared).
 * The ratio that matters is wall time against tar (target <= 1.3x); peak RSS must not grow with the tree.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './common.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 32);
const MB = Number(process.env.BENCH_MB ?? 64);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
const MODES = (process.env.BENCH_MODES ?? 'file,stdout,encrypt').split(',').map((mode) => mode.trim()).filter(Boolean);
const FILE_MB = 4;
const PASSPHRASE = 'bench passphrase';

interface Measured {
  wall: number;
  cpu: number;
  peakMiB: number;
  archive: number;
}

const mib = (bytes: number) => bytes / 1048576;

async function generate(base: string): Promise<void> {
  const line = '{"key":"value","messages":[1,2,3],"chat":"1234567890@c.us"}\n';
  const text = Buffer.from(line.repeat(Math.ceil((FILE_MB << 20) / line.length))).subarray(0, FILE_MB << 20);
  for (let session = 0; session < SESSIONS; session++) {
    const name = `bench-${String(session).padStart(3, '0')}`;
    const db = path.join(base, 'webjs', name, `session-${name}`, 'Default', 'IndexedDB', 'https_web.whatsapp.com_0.indexeddb.leveldb');
    await mkdir(db, { recursive: true });
    await writeFile(path.join(base, 'webjs', name, '.waha.session.config.json'), '{}');
    for (let file = 0; file < MB / FILE_MB; file++) {
      await writeFile(path.join(db, `${String(file).padStart(6, '0')}.ldb`), file % 2 ? text : randomBytes(FILE_MB << 20));
    }
    await writeFile(path.join(db, 'CURRENT'), 'MANIFEST-000001\n');
  }
  // older than the liveness window (60 s), so backup does not take the sessions for running ones
  const old = new Date(Date.now() - 3600_000);
  const touch = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await touch(full);
      await utimes(full, old, old);
    }
  };
  await touch(base);
}

/** Runs `command args` under /usr/bin/time (stdout to `stdoutFile` when given); throws on a non-zero exit. */
function measure(name: string, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; stdoutFile?: string; archive: string }): Promise<Measured> {
  const report = path.join(os.tmpdir(), `waha-bench-time-${process.pid}.txt`);
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'w', 0o600) : 'ignore';
  const child = spawn('/usr/bin/time', ['-o', report, '-f', '%e %U %S %M', command, ...args], {
    cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', out, 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (typeof out === 'number') closeSync(out);
      if (code !== 0) {
        reject(new Error(`${name} exited with ${code}\n${stderr.slice(-3000)}`));
        return;
      }
      const [wall, user, sys, rssKb] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
      resolve({ wall, cpu: user + sys, peakMiB: rssKb / 1024, archive: statSync(options.archive).size });
    });
  });
}

const keep = Boolean(process.env.BENCH_KEEP);
const base = process.env.BENCH_DIR ?? await mkdtemp(path.join(os.tmpdir(), 'waha-bench-backup-'));
const out = await mkdtemp(path.join(os.tmpdir(), 'waha-bench-backup-out-'));
try {
  if (existsSync(path.join(base, 'webjs'))) console.log(`reusing the tree in ${base}`);
  else {
    console.log(`generating ${SESSIONS} WEBJS profiles x ${MB} MiB in ${base} ...`);
    await generate(base);
  }
  const commands: { name: string; run: () => Promise<Measured> }[] = [];
  const tarFile = path.join(out, 'peer.tar.gz');
  commands.push({ name: 'tar czf', run: () => measure('tar', 'tar', ['czf', tarFile, 'webjs'], { cwd: base, archive: tarFile }) });
  const ours = ['backup', 'local', '--engine', 'WEBJS', '--sessions-dir', base, '-q'];
  const oursFile = path.join(out, 'ours.tar.gz');
  if (MODES.includes('file')) {
    commands.push({ name: 'backup -o file', run: () => measure('backup -o file', process.execPath, [BIN, ...ours, '-o', oursFile], { cwd: base, archive: oursFile }) });
  }
  if (MODES.includes('stdout')) {
    commands.push({ name: 'backup -o - > file', run: () => measure('backup -o -', process.execPath, [BIN, ...ours, '-o', '-'], { cwd: base, stdoutFile: oursFile, archive: oursFile }) });
  }
  if (MODES.includes('encrypt')) {
    const env = { ...process.env, WAHA_STORAGE_BACKUP_PASSPHRASE: PASSPHRASE };
    const aged = path.join(out, 'ours.tar.gz.age');
    commands.push({ name: 'backup -o file --encrypt', run: () => measure('backup --encrypt', process.execPath, [BIN, ...ours, '--encrypt', '-o', aged], { cwd: base, env, archive: aged }) });
  }

  const best = new Map<string, Measured>();
  for (let run = 1; run <= RUNS; run++) {
    for (const command of commands) {
      const measured = await command.run();
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const previous = best.get(command.name);
      if (!previous || measured.wall < previous.wall) best.set(command.name, { ...measured, peakMiB: Math.max(measured.peakMiB, previous?.peakMiB ?? 0) });
      console.log(`run ${run}: ${command.name.padEnd(26)} ${measured.wall.toFixed(1)} s wall, ${measured.cpu.toFixed(1)} s CPU, peak RSS ${measured.peakMiB.toFixed(0)} MiB`);
    }
  }

  const peer = best.get('tar czf')!;
  const treeMiB = SESSIONS * MB;
  console.log('');
  console.log(`tree: ${treeMiB} MiB (${(treeMiB / 1024).toFixed(1)} GiB) in ${SESSIONS} WEBJS sessions; ${os.cpus().length} CPUs; best of ${RUNS}`);
  console.log(`${'command'.padEnd(28)}${'wall'.padStart(9)}${'CPU'.padStart(9)}${'peak RSS'.padStart(11)}${'archive'.padStart(12)}${'wall vs tar'.padStart(13)}${'CPU vs tar'.padStart(12)}`);
  for (const [name, measured] of best) {
    console.log(`${name.padEnd(28)}${`${measured.wall.toFixed(1)} s`.padStart(9)}${`${measured.cpu.toFixed(1)} s`.padStart(9)}` +
      `${`${measured.peakMiB.toFixed(0)} MiB`.padStart(11)}${`${mib(measured.archive).toFixed(0)} MiB`.padStart(12)}` +
      `${`${(measured.wall / peer.wall).toFixed(2)}x`.padStart(13)}${`${(measured.cpu / peer.cpu).toFixed(2)}x`.padStart(12)}`);
  }
  const file = best.get('backup -o file');
  if (file) console.log(`\nratio (backup -o file / tar czf, wall): ${(file.wall / peer.wall).toFixed(2)}x (target <= 1.3x; ours includes the read-back verification)`);
} finally {
  await rm(out, { recursive: true, force: true });
  if (!keep && !process.env.BENCH_DIR) await rm(base, { recursive: true, force: true });
}
