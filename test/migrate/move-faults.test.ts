/**
 * `migrate local mongo --move` killed with SIGKILL at random points, then run again: after every
 * kill each session exists complete (every key file and creds, equal to the fixture) in at least
 * one store, and a rerun finishes the move (all in MongoDB, nothing left locally, no trash left).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/util/digest.js';
import { mongoKeyOf, parseKeyName } from '../../src/sessions/engines/noweb-keys.js';
import { BIN, cleanEnv } from '../support/cli.js';
import { mainDbName, scaleSessionName, sessionDbName, writeLocalNowebSessions } from '../support/fixtures/index.js';
import { connectMongo, dropNamespace, mongoUrl, uniqueNamespace } from '../support/mongo.js';
import { Random } from '../support/fixtures/random.js';
import { age } from './helpers.js';

const SESSIONS = 20;
const KEYS = 40;
const SEEDS = 10;
const TEMPLATE_NS = 'tpl';
const CONFIG_FILE = '.waha.session.config.json';

let client: MongoClient;
let template: string;
/** Per session: file name -> bytes, as the fixture wrote them. */
const fixture = new Map<string, Map<string, Buffer>>();

beforeAll(async () => {
  client = await connectMongo();
  template = await mkdtemp(path.join(os.tmpdir(), 'waha-move-faults-'));
  await writeLocalNowebSessions(template, { count: SESSIONS, keysPerSession: KEYS, namespace: TEMPLATE_NS });
  await age(path.join(template, TEMPLATE_NS));
  for (let index = 0; index < SESSIONS; index++) {
    const name = scaleSessionName(index);
    const folder = path.join(template, TEMPLATE_NS, name);
    fixture.set(name, new Map(readdirSync(folder).map((file) => [file, readFileSync(path.join(folder, file))])));
  }
});

afterAll(async () => {
  await client.close();
  await rm(template, { recursive: true, force: true });
});

function args(base: string, namespace: string): string[] {
  return ['migrate', 'local', 'mongo', '--move', '--yes', '--concurrency', '2', '--sessions-dir', base,
    '--namespace', namespace, '--session-namespace', namespace, '--mongo-url', mongoUrl()];
}

/**
 * Runs the move; SIGKILLs it after `killAfterMs` unless it ended first. With `atRemoval`, the kill
 * waits from then on for the next change inside a session folder: the moment a source removal starts.
 */
function run(base: string, namespace: string, kill?: { afterMs: number; atRemoval?: boolean }): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args(base, namespace)], { env: cleanEnv() });
    let stderr = '';
    let killed = false;
    const watchers: FSWatcher[] = [];
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const killNow = () => {
      if (child.exitCode === null && !killed) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    const timer = kill === undefined ? undefined : setTimeout(() => {
      if (!kill.atRemoval) return killNow();
      for (const name of fixture.keys()) {
        const folder = path.join(base, namespace, name);
        if (existsSync(folder)) watchers.push(watch(folder, killNow).on('error', () => {}));
      }
    }, kill.afterMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      resolve({ code, killed, stderr });
    });
  });
}

/** Whether the local folder holds every fixture file, byte for byte. */
function completeLocally(base: string, namespace: string, name: string): boolean {
  const folder = path.join(base, namespace, name);
  if (!existsSync(folder)) return false;
  for (const [file, bytes] of fixture.get(name)!) {
    const full = path.join(folder, file);
    if (!existsSync(full) || !readFileSync(full).equals(bytes)) return false;
  }
  return true;
}

/** Whether MongoDB holds the committed session: no incomplete marker, its config document, every key equal to the fixture's. */
async function completeInMongo(namespace: string, name: string): Promise<boolean> {
  const db = client.db(sessionDbName(namespace, name));
  const collections = (await db.listCollections({}, { nameOnly: true }).toArray()).map((collection) => collection.name);
  if (!collections.includes('auth') || collections.some((collection) => collection.includes('incomplete'))) return false;
  if (!(await client.db(mainDbName(namespace)).collection('sessions').findOne({ name }))) return false;
  const keys = new Map((await db.collection('auth').find({}, { projection: { _id: 0 } }).toArray()).map((document) => [document.key as string, document.data]));
  for (const [file, bytes] of fixture.get(name)!) {
    if (file === CONFIG_FILE) continue;
    const parsed = parseKeyName(file, 'file');
    if (!parsed.ok) throw new Error(`fixture file ${file}: ${parsed.error}`);
    const stored = keys.get(mongoKeyOf(parsed.key));
    if (stored === undefined || canonicalJson(stored) !== canonicalJson(JSON.parse(bytes.toString('utf8')))) return false;
  }
  return true;
}

async function lostSessions(base: string, namespace: string): Promise<string[]> {
  const lost: string[] = [];
  for (const name of fixture.keys()) {
    if (!completeLocally(base, namespace, name) && !(await completeInMongo(namespace, name))) lost.push(name);
  }
  return lost;
}

function trashLeft(base: string): string[] {
  const staging = path.join(base, '.waha-storage-staging');
  if (!existsSync(staging)) return [];
  return readdirSync(staging, { recursive: true }).map(String).filter((entry) => /\.removing-|\.old-|\.committing/.test(entry));
}

describe('migrate local mongo --move under SIGKILL', () => {
  it(`keeps every session whole in at least one store and finishes on a rerun (${SEEDS} seeds)`, async () => {
    const kills: number[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = new Random(`move-faults-${seed}`);
      const namespace = uniqueNamespace('mvf');
      const base = await mkdtemp(path.join(os.tmpdir(), 'waha-move-faults-run-'));
      try {
        await cp(path.join(template, TEMPLATE_NS), path.join(base, namespace), { recursive: true, preserveTimestamps: true });
        // a kill at a random time, then one as a source removal starts (the riskiest moment)
        for (const atRemoval of [false, true]) {
          const delay = random.int(50, 1500);
          const killed = await run(base, namespace, { afterMs: delay, atRemoval });
          if (killed.killed) kills.push(delay);
          else expect(killed.code, killed.stderr).toBe(0);
          expect(await lostSessions(base, namespace), `seed ${seed}, kill after ${delay} ms${atRemoval ? ' at a removal' : ''}`).toEqual([]);
        }
        const rerun = await run(base, namespace);
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(rerun.stderr).not.toMatch(/--overwrite/);
        for (const name of fixture.keys()) expect(await completeInMongo(namespace, name), `${name} in mongo (seed ${seed})`).toBe(true);
        expect(readdirSync(path.join(base, namespace)).filter((entry) => entry !== 'waha.sqlite3' && !entry.startsWith('waha.sqlite3-'))).toEqual([]);
        expect(trashLeft(base)).toEqual([]);
        expect(await client.db(mainDbName(namespace)).collection('me').countDocuments()).toBe(SESSIONS);
      } finally {
        await dropNamespace(client, namespace);
        await rm(base, { recursive: true, force: true });
      }
    }
    // the kills must have hit running migrations, not finished ones
    expect(kills.length).toBeGreaterThanOrEqual(SEEDS);
  }, 600_000);
});
