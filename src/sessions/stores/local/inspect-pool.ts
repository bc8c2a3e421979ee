/**
 * Inspecting many local sessions is bound by lstat: one system call and one Stats object per key
 * file. With a second CPU, worker threads read sessions too, beside the main thread. Sessions are
 * handed out in small chunks as each thread asks for more, so a thread on a busy CPU only slows
 * its own share. A worker that fails to start or dies hands its chunks back to the main thread:
 * the result is the same, in the same order, either way.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SessionReport } from '../../report.js';
import type { MainDbContents } from './main-db.js';
import type { LocalSessionRef } from './inspect.js';

const WORKER_FILE = fileURLToPath(new URL('./inspect-worker.js', import.meta.url));
/** Below this many sessions per thread, starting a thread (~40 ms) costs more than it saves. */
const MIN_SESSIONS_PER_THREAD = 64;
/** Chunks a worker holds at once: one being read, one waiting, so it never idles on a round trip. */
const IN_FLIGHT = 2;

export interface InspectChunk {
  id: number;
  refs: LocalSessionRef[];
  /** Each ref's main database, cut down to that session's rows. */
  mainDbs: MainDbContents[];
}

export interface ChunkResult {
  id: number;
  reports: SessionReport[];
}

type Analyse = (ref: LocalSessionRef, mainDb: MainDbContents) => Promise<SessionReport>;

/** Every ref analysed once; `threads` counts the main thread (1 = no workers). */
export async function analyseInThreads(refs: readonly LocalSessionRef[], mainDbs: ReadonlyMap<string, MainDbContents>,
  threads: number, analyse: Analyse): Promise<SessionReport[]> {
  const workers = workerCount(refs.length, threads);
  const chunkSize = Math.max(1, Math.min(32, Math.ceil(refs.length / ((workers + 1) * 16))));
  const queue: InspectChunk[] = [];
  for (let start = 0, id = 0; start < refs.length; start += chunkSize, id++) {
    const part = refs.slice(start, start + chunkSize);
    queue.push({ id, refs: part, mainDbs: part.map((ref) => rowsOf(mainDbs.get(ref.mainDir)!, ref.name)) });
  }
  const results: SessionReport[][] = new Array(queue.length);
  const running: Worker[] = [];
  const pool = Array.from({ length: workers }, () => startWorker(queue, results, running));
  // The main thread reads chunks too; between sessions it yields, so workers' messages are served
  // (and a spinner turns, and Ctrl-C is seen). What a failed worker gives back is read here last.
  try {
    do {
      for (let chunk = queue.shift(); chunk; chunk = queue.shift()) {
        const reports: SessionReport[] = [];
        for (const [index, ref] of chunk.refs.entries()) {
          await new Promise(setImmediate);
          reports.push(await analyse(ref, chunk.mainDbs[index]!));
        }
        results[chunk.id] = reports;
      }
      await Promise.all(pool);
    } while (queue.length);
  } catch (error) {
    // the main thread stopped (Ctrl-C): the workers' chunks are not wanted any more
    queue.length = 0;
    await Promise.all(running.map((thread) => thread.terminate()));
    throw error;
  }
  return results.flat();
}

function workerCount(sessions: number, threads: number): number {
  if (!existsSync(WORKER_FILE)) return 0; // run from the TypeScript sources (tests): the main thread does it all
  const cpus = Math.min(threads, availableParallelism());
  return Math.max(0, Math.min(cpus - 1, Math.floor(sessions / MIN_SESSIONS_PER_THREAD) - 1));
}

function rowsOf(mainDb: MainDbContents, name: string): MainDbContents {
  const me = mainDb.me.get(name);
  const worker = mainDb.workers.get(name);
  return {
    ...mainDb,
    me: new Map(me ? [[name, me]] : []),
    workers: new Map(worker !== undefined ? [[name, worker]] : []),
  };
}

/** Resolves when the worker has nothing more to do; never rejects (its chunks go back to the queue). */
function startWorker(queue: InspectChunk[], results: SessionReport[][], threads: Worker[]): Promise<void> {
  return new Promise((resolve) => {
    const held = new Map<number, InspectChunk>();
    let done = false;
    const worker = new Worker(WORKER_FILE, { stdout: false, stderr: false });
    threads.push(worker);
    const finish = () => {
      if (done) return;
      done = true;
      queue.push(...held.values()); // unfinished: the main thread reads them
      held.clear();
      void worker.terminate();
      resolve();
    };
    const feed = () => {
      while (held.size < IN_FLIGHT && queue.length) {
        const chunk = queue.shift()!;
        held.set(chunk.id, chunk);
        worker.postMessage(chunk);
      }
      if (!held.size) finish();
    };
    worker.on('message', (result: ChunkResult) => {
      results[result.id] = result.reports;
      held.delete(result.id);
      feed();
    });
    worker.on('error', finish);
    worker.on('exit', finish);
    feed();
  });
}
