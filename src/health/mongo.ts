/**
 * `mongodb`: WAHA's check (`{ismaster: 1}` raced against WHATSAPP_HEALTH_MONGO_TIMEOUT_MS), and
 * `mongodb.permissions`: whether the user may create and drop databases, which WAHA needs (it
 * creates one database per session). WAHA reports every failure as `error: "Timeout"`; we keep
 * that field and add `reason` and `detail` saying what really failed.
 */
import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import { redact } from '../config/redact.js';
import { classifyMongoError, connectMongo, describeMongoFailure, type MongoFailure } from '../util/mongo.js';
import type { CheckDetail } from './result.js';
import { CheckTimeout, withTimeout } from './timeout.js';

export interface MongoCheckOptions {
  url: string;
  /** WHATSAPP_HEALTH_MONGO_TIMEOUT_MS: the driver's selection timeout and the race's clock. */
  timeoutMs: number;
}

/** Lets the driver's own error (more precise than "timeout") win a tie with the race's clock. */
const GRACE_MS = 250;

export type MongoDownReason = MongoFailure | 'forbidden';

export async function checkMongo(options: MongoCheckOptions): Promise<CheckDetail> {
  await import('mongodb'); // loading the driver is not the server's time
  const opened = open(options);
  try {
    await withTimeout(opened.then((client) => client.db().admin().command({ ismaster: 1 })), options.timeoutMs + GRACE_MS);
    return { status: 'up', message: 'Up and running' };
  } catch (error) {
    return mongoDown(error);
  } finally {
    closeLater(opened);
  }
}

export async function checkMongoPermissions(options: MongoCheckOptions): Promise<CheckDetail> {
  await import('mongodb');
  const database = `waha_storage_probe_${randomBytes(4).toString('hex')}`;
  const opened = open(options);
  let step = 'connect';
  const probe = async () => {
    const db = (await opened).db(database);
    step = 'create';
    await db.collection('probe').insertOne({ probe: 'waha-storage health', at: new Date() });
    step = 'drop';
    await db.dropDatabase();
  };
  try {
    await withTimeout(probe(), 2 * options.timeoutMs + GRACE_MS);
    return { status: 'up', database, message: 'can create and drop databases' };
  } catch (error) {
    if (step === 'connect') return mongoDown(error);
    const denied = isForbidden(error);
    const left = step === 'drop' ? ` (the probe database ${database} is left behind; drop it by hand)` : '';
    return {
      status: 'down',
      reason: denied ? 'forbidden' : error instanceof CheckTimeout ? 'timeout' : classifyMongoError(error),
      database,
      detail: `cannot ${step} database ${database}: ${denied ? 'not authorized' : redact(messageOf(error))}${left}`,
      hint: 'WAHA creates and drops one database per session: grant the roles readWriteAnyDatabase and ' +
        'dbAdminAnyDatabase (on MongoDB Atlas: the Atlas Admin role)',
    };
  } finally {
    closeLater(opened);
  }
}

/** WAHA's down fields, plus what really failed. */
export function mongoDown(error: unknown): CheckDetail {
  const reason: MongoFailure = error instanceof CheckTimeout ? 'timeout' : classifyMongoError(causeOf(error));
  const extra = reason === 'other' ? `: ${redact(messageOf(causeOf(error)))}` : '';
  return { status: 'down', error: 'Timeout', reason, detail: `${describeMongoFailure(reason)}${extra}` };
}

function open(options: MongoCheckOptions): Promise<MongoClient> {
  return connectMongo(options.url, { timeoutMs: options.timeoutMs, appName: 'waha-storage health' });
}

/** Closes the client whenever it connects (or not at all); never blocks the result. */
function closeLater(opened: Promise<MongoClient>): void {
  opened.then((client) => client.close()).catch(() => {});
}

/** connectMongo wraps the driver's error; classify the driver's own. */
function causeOf(error: unknown): unknown {
  return (error as { cause?: unknown })?.cause ?? error;
}

function isForbidden(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 13 || /not authori[sz]ed|Unauthorized|requires authentication/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
