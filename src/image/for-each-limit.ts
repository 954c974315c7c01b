/**
 * A bounded fan-out, in its own module: the builder's COPY uses it too, and importing it from
 * copy.ts would build every schema of the distribution formats at the start of each build.
 */
/** Runs `fn` over items with at most `limit` in flight; the first failure aborts the rest. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}
