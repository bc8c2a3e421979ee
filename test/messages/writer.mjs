// A stand-in for WAHA's GOWS process: holds gows.db open and writes messages in a loop (each
// write its own IMMEDIATE transaction that keeps the write lock a few milliseconds), until SIGTERM;
// then prints how many it wrote and its longest write (waiting for the lock included). Any error ends it with exit 1.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const Database = require(Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3');
const [file] = process.argv.slice(2);
const db = new Database(file, { timeout: 30_000 });
db.pragma('journal_mode = WAL');
const insert = db.prepare('INSERT INTO gows_messages (jid, id, timestamp, from_me, is_real, data) VALUES (?, ?, ?, 0, 1, ?)');
const hold = new Int32Array(new SharedArrayBuffer(4));
let written = 0;
let longestMs = 0;
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const write = db.transaction((n) => {
  const at = new Date().toISOString().replace('T', ' ').replace('Z', '+00:00');
  insert.run('333333333@s.whatsapp.net', `WRITER-${n}`, at, Buffer.from('{"writer":true}'));
  Atomics.wait(hold, 0, 0, 3); // WAHA's own transactions take a while too
});
function loop() {
  try {
    for (let i = 0; i < 5 && !stop; i++) {
      const started = performance.now();
      write.immediate(written++);
      longestMs = Math.max(longestMs, performance.now() - started);
    }
  } catch (error) {
    process.stdout.write(`ERROR ${error.code ?? ''} ${error.message}\n`);
    process.exit(1);
  }
  if (written === 5) process.stdout.write('ready\n');
  if (stop) {
    db.close();
    process.stdout.write(`written ${written} longest ${Math.round(longestMs)}\n`);
    process.exit(0);
  }
  setTimeout(loop, 2);
}
loop();
