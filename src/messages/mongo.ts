/**
 * NOWEB's message history in MongoDB: the `messages` collection of each session database
 * (`{jid, id, messageTimestamp, data}`, waha-facts §2.3; Unix seconds). A batch reads the `_id`s of
 * the next old documents, then deletes those that are still old, in one deleteMany. MongoDB
 * reports no size per document cheaply: the bytes of a batch are estimated from the collection's
 * average document size.
 */
import type { Collection, Db, Document, Filter } from 'mongodb';
import { OperationError } from '../errors.js';
import { chatFilter, MILLISECONDS_FROM, numericCutoff, type PruneCriteria } from './criteria.js';
import type { BatchResult, MessageTable, TablePlan, TableSpace } from './table.js';

export class MongoMessageTable implements MessageTable {
  readonly store = 'mongo' as const;
  readonly engine = 'NOWEB' as const;
  readonly table = 'messages';
  readonly location: string;
  private readonly collection: Collection;
  private averageBytes: number | undefined;

  constructor(readonly session: string, private readonly db: Db) {
    this.location = `${db.databaseName}.messages`;
    this.collection = db.collection('messages');
  }

  private filter(criteria: PruneCriteria): Filter<Document> {
    const { seconds, milliseconds } = numericCutoff(criteria);
    const filter: Filter<Document> = {
      $or: [{ messageTimestamp: { $lt: seconds } }, { messageTimestamp: { $gte: MILLISECONDS_FROM, $lt: milliseconds } }],
    };
    const chats = chatFilter(criteria);
    if (chats.length) filter.jid = { $in: chats };
    return filter;
  }

  async plan(criteria: PruneCriteria): Promise<TablePlan> {
    return this.guard(async () => {
      const filter = this.filter(criteria);
      const [rows, planned, readable] = await Promise.all([
        this.collection.countDocuments({}),
        this.collection.countDocuments(filter),
        this.collection.countDocuments({ messageTimestamp: { $type: 'number' } }),
      ]);
      const byJid = new Map<string, number>();
      if (chatFilter(criteria).length) {
        for await (const row of this.collection.aggregate<{ _id: string; n: number }>([{ $match: filter }, { $group: { _id: '$jid', n: { $sum: 1 } } }])) byJid.set(row._id, row.n);
      }
      return { rows, planned, unreadable: Math.max(0, rows - readable), byJid };
    });
  }

  async deleteBatch(criteria: PruneCriteria, limit: number): Promise<BatchResult> {
    return this.guard(async () => {
      const filter = this.filter(criteria);
      const ids = (await this.collection.find(filter, { projection: { _id: 1 } }).limit(limit).toArray()).map((document) => document._id);
      if (!ids.length) return { deleted: 0, bytes: 0, more: false };
      const { deletedCount } = await this.collection.deleteMany({ $and: [{ _id: { $in: ids } }, filter] });
      this.averageBytes ??= (await this.stats()).avgObjSize;
      return { deleted: deletedCount, bytes: Math.round(deletedCount * (this.averageBytes ?? 0)), more: ids.length === limit };
    });
  }

  async space(): Promise<TableSpace> {
    return this.guard(async () => ({ bytes: (await this.stats()).size }));
  }

  private async stats(): Promise<{ size: number; avgObjSize: number }> {
    const stats = await this.db.command({ collStats: 'messages' }) as { size?: number; avgObjSize?: number; count?: number };
    const size = Number(stats.size ?? 0);
    const count = Number(stats.count ?? 0);
    return { size, avgObjSize: Number(stats.avgObjSize ?? (count ? size / count : 0)) };
  }

  async close(): Promise<void> {
    // the client belongs to the run
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof OperationError) throw error;
      throw new OperationError(`${this.location}: ${(error as Error).message}`, { hint: 'check the database', cause: error });
    }
  }
}
