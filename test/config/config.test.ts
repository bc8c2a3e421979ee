import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { redact, redactUrl } from '../../src/config/redact.js';
import { parseDuration, parseSize } from '../../src/config/units.js';
import { UsageError } from '../../src/errors.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'waha-storage-config-'));

describe('configuration', () => {
  it('takes flags over the environment over .env over defaults', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, '.env'), 'WHATSAPP_FILES_FOLDER=/from/dotenv\nWAHA_LOCAL_STORE_BASE_DIR=/dotenv/sessions\nWHATSAPP_FILES_LIFETIME=60\n');
    const config = loadConfig({
      flags: { mediaDir: '/from/flag' },
      env: { WAHA_LOCAL_STORE_BASE_DIR: '/env/sessions' },
      cwd,
    });
    expect(config.media.mediaDir).toBe('/from/flag');
    expect(config.sessions.sessionsDir).toBe('/env/sessions');
    expect(config.media.lifetimeSeconds).toBe(60);
    expect(config.source('lifetime').source).toBe('.env:WHATSAPP_FILES_LIFETIME');
    expect(config.health.mongoTimeoutMs).toBe(3000);
    expect(config.source('mongoTimeout').source).toBe('default');
  });

  it('resolves the default sessions dir against the working directory', () => {
    const cwd = tmp();
    expect(loadConfig({ flags: {}, env: {}, cwd }).sessions.sessionsDir).toBe(path.join(cwd, '.sessions'));
  });

  it('accepts both spellings of the health variables, the code spelling first', () => {
    const docs = loadConfig({ flags: {}, env: { WHATSAPP_HEALTH_SESSIONS_FILES_THRESHOLD_MB: '5', WHATSAPP_HEALTH_MONGODB_TIMEOUT: '700' }, cwd: tmp() });
    expect(docs.health.sessionsThresholdMb).toBe(5);
    expect(docs.health.mongoTimeoutMs).toBe(700);
    const both = loadConfig({ flags: {}, env: { WHATSAPP_HEALTH_SESSION_FILES_THRESHOLD_MB: '7', WHATSAPP_HEALTH_SESSIONS_FILES_THRESHOLD_MB: '5' }, cwd: tmp() });
    expect(both.health.sessionsThresholdMb).toBe(7);
  });

  it('names the flag and the variable for a bad value, only when the section is used', () => {
    const config = loadConfig({ flags: {}, env: { WHATSAPP_FILES_LIFETIME: 'soon' }, cwd: tmp() });
    expect(config.sessions.sessionsDir).toBeTruthy();
    expect(config.media.mediaDir).toBeTruthy();
    expect(() => config.media.lifetimeSeconds).toThrow(UsageError);
    expect(() => config.media.lifetimeSeconds).toThrow(/--lifetime \/ WHATSAPP_FILES_LIFETIME.*from env WHATSAPP_FILES_LIFETIME/);
    const health = loadConfig({ flags: {}, env: { WHATSAPP_HEALTH_MEDIA_FILES_THRESHOLD_MB: 'lots' }, cwd: tmp() });
    expect(health.media.mediaDir).toBeTruthy();
    expect(() => health.health).toThrow(/--media-threshold-mb \/ WHATSAPP_HEALTH_MEDIA_FILES_THRESHOLD_MB/);
  });

  it('rejects a malformed Mongo URL without printing it', () => {
    const config = loadConfig({ flags: { mongoUrl: 'postgres://u:hunter22@h/db' }, env: {}, cwd: tmp() });
    expect(() => config.sessions).toThrow(/--mongo-url \/ WHATSAPP_SESSIONS_MONGO_URL/);
    try {
      void config.sessions;
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter22');
    }
  });

  it('reads secrets from files', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'url'), 'mongodb://u:s3cretpw@localhost:1/\n');
    const config = loadConfig({ flags: { mongoUrlFile: 'url' }, env: {}, cwd });
    expect(config.sessions.mongoUrl).toBe('mongodb://u:s3cretpw@localhost:1/');
    expect(redact('failed: s3cretpw')).toBe('failed: ***');
  });
});

describe('redaction', () => {
  it('masks credentials in any URL', () => {
    expect(redactUrl('mongodb://user:pa%40ss@db:27017/x?authSource=admin')).toBe('mongodb://***@db:27017/x?authSource=admin');
    expect(redact('connect mongodb+srv://a:b@cluster0.example.net/ failed')).toBe('connect mongodb+srv://***@cluster0.example.net/ failed');
  });
});

describe('units', () => {
  it('parses durations in seconds', () => {
    expect(parseDuration('180')).toBe(180);
    expect(parseDuration('180s')).toBe(180);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('36h')).toBe(129600);
    expect(parseDuration('7d')).toBe(604800);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('parses decimal and binary sizes', () => {
    expect(parseSize('10MB')).toBe(10_000_000);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('512')).toBe(512);
    expect(parseSize('12 parsecs')).toBeUndefined();
  });
});
