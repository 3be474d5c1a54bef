// Runs tasks a few at a time. Downloading 4 files at once hides per-connection limits of CDNs
// without flooding a home connection. The first failure aborts the others (through the shared
// controller) and is the one rethrown, once every task has stopped — so no task is still writing
// when the caller reports the error.

export async function runPool<T>(items: readonly T[], concurrency: number, controller: AbortController, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        if (firstError === null) {
          firstError = { error };
          if (!controller.signal.aborted) controller.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
  controller.signal.throwIfAborted();
}
