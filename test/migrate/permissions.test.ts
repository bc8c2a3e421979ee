/**
 * A MongoDB user without the right to create databases: the server's refusal is recognised and the
 * session fails saying which right WAHA's user needs (Atlas Admin on Atlas). The test server
 * (FerretDB) runs without authentication, so the refusal itself cannot be produced end to end here:
 * these tests feed the classification the errors MongoDB and Atlas send.
 */
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isNotAuthorized, permissionError } from '../../src/sessions/stores/mongo/store.js';
import { EntryError } from '../../src/sessions/stores/types.js';

const unauthorized = () => new MongoServerError({
  ok: 0,
  code: 13,
  codeName: 'Unauthorized',
  errmsg: 'not authorized on waha_prod_alpha to execute command { update: "waha_storage_incomplete", ordered: true, $db: "waha_prod_alpha" }',
});

const atlas = () => new MongoServerError({
  ok: 0,
  code: 8000,
  codeName: 'AtlasError',
  errmsg: 'user is not allowed to do action [insert] on [waha_prod_alpha.wst_auth]',
});

describe('a user that may not create databases', () => {
  it('is recognised from code 13, from the message alone, from AtlasError 8000, and inside a bulk write error', () => {
    expect(isNotAuthorized(unauthorized())).toBe(true);
    expect(isNotAuthorized(new Error('not authorized on admin to execute command { listDatabases: 1 }'))).toBe(true);
    expect(isNotAuthorized(atlas())).toBe(true);
    const bulk = new MongoBulkWriteError(unauthorized(), { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, insertedIds: {}, upsertedIds: {} } as never);
    expect(isNotAuthorized(bulk)).toBe(true);
    expect(isNotAuthorized(Object.assign(new Error('insertMany failed'), { cause: unauthorized() }))).toBe(true);
  });

  it('is not confused with other failures', () => {
    expect(isNotAuthorized(new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' }))).toBe(false);
    expect(isNotAuthorized(new MongoServerError({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' }))).toBe(false);
    expect(isNotAuthorized(new MongoServerError({ ok: 0, code: 8000, codeName: 'AtlasError', errmsg: 'you are over your space quota' }))).toBe(false);
    expect(isNotAuthorized(new Error('connect ECONNREFUSED 127.0.0.1:27017'))).toBe(false);
    expect(isNotAuthorized(undefined)).toBe(false);
  });

  it('fails the session with reason not-authorized, naming the database and the Atlas Admin role, on one line', () => {
    const error = permissionError(unauthorized(), 'waha_prod_other');
    expect(error).toBeInstanceOf(EntryError);
    expect((error as EntryError).reason).toBe('not-authorized');
    const message = (error as EntryError).message;
    expect(message).toContain('waha_prod_alpha'); // the database the server named
    expect(message).toContain('create and drop databases');
    expect(message).toContain('Atlas Admin');
    expect(message).not.toContain('\n');
    expect((permissionError(atlas(), 'waha_prod_alpha') as EntryError).message).toContain('waha_prod_alpha');
  });

  it('lets every other error through unchanged', () => {
    const other = new Error('disk full');
    expect(permissionError(other, 'waha_prod_alpha')).toBe(other);
  });
});
