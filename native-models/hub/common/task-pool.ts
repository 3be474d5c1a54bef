// Runs tasks a few at a time. Downloading 4 files at once hides per-connection limits of CDNs
// without flooding a home connection. The first failure aborts the others (through the shared
// controller) and is the one rethrown, once every task has stopped — so no task is still writing
// when the caller reports the error. The limiting itself is p-limit's, as everywhere in Trove.
import pLimit from 'p-limit';

export async function runPool<T>(items: readonly T[], concurrency: number, controller: AbortController, task: (item: T) => Promise<void>): Promise<void> {
  let firstError: { error: unknown } | null = null;
  // Every task's failure is caught here, so the map settles only once every task has stopped.
  await pLimit(Math.max(1, concurrency)).map(items, async (item) => {
    if (controller.signal.aborted) return;
    try {
      await task(item);
    } catch (error) {
      if (firstError === null) {
        firstError = { error };
        if (!controller.signal.aborted) controller.abort(error);
      }
    }
  });
  if (firstError !== null) throw (firstError as { error: unknown }).error;
  controller.signal.throwIfAborted();
}
