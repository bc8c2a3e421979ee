/**
 * Merges several page streams (one per S3 prefix) into one, reading at most `concurrency` of them
 * at a time. Each source runs at most one page ahead, so memory stays flat whatever their length.
 */
export async function* mergePages<T>(sources: readonly (() => AsyncIterable<T>)[], concurrency: number): AsyncGenerator<T> {
  type Pending = { iterator: AsyncIterator<T>; next: Promise<{ iterator: AsyncIterator<T>; result: IteratorResult<T> }> };
  const waiting = [...sources];
  const active = new Set<Pending>();
  const arm = (iterator: AsyncIterator<T>): Pending => ({ iterator, next: iterator.next().then((result) => ({ iterator, result })) });
  const start = () => {
    while (active.size < concurrency && waiting.length) active.add(arm(waiting.shift()!()[Symbol.asyncIterator]()));
  };
  try {
    start();
    while (active.size) {
      const { iterator, result } = await Promise.race([...active].map((pending) => pending.next));
      const finished = [...active].find((pending) => pending.iterator === iterator)!;
      active.delete(finished);
      if (result.done) {
        start();
        continue;
      }
      active.add(arm(iterator));
      yield result.value;
    }
  } finally {
    // Stop the other sources when the consumer stops early (an error, --max-delete, Ctrl-C).
    await Promise.allSettled([...active].map(async (pending) => {
      await pending.next.catch(() => undefined);
      await pending.iterator.return?.();
    }));
  }
}
