/** A worker thread of local-inspect-pool: analyses the chunks of sessions it is sent. */
import { parentPort } from 'node:worker_threads';
import { analyseLocalSession } from './inspect.js';
import type { ChunkResult, InspectChunk } from './inspect-pool.js';

parentPort!.on('message', async (chunk: InspectChunk) => {
  const reports = [];
  for (const [index, ref] of chunk.refs.entries()) reports.push(await analyseLocalSession(ref, chunk.mainDbs[index]!));
  parentPort!.postMessage({ id: chunk.id, reports } satisfies ChunkResult);
});
