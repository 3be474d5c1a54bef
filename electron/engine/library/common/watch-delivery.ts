// Delivery of the root watcher's events to its user (library sync): strictly one at a time and in
// order (the next is not handed over until the handler's promise settles), so batches are applied
// in the order their changes happened. A handler that fails is told so once, as a `problem` that
// asks for a rescan; the failure never reaches chokidar. Nothing is delivered once the watcher is closed.
import type { WatcherEvent } from './watch-events.ts';
import { errorText } from './watch-problems.ts';

export interface EventDeliveryOptions {
  readonly root: string;
  readonly onEvent: (event: WatcherEvent) => void | Promise<void>;
  readonly isClosed: () => boolean;
}

export class EventDelivery {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventDeliveryOptions) {}

  /** Queues the event; settles once it (and every event before it) was handled. Never rejects. */
  deliver(event: WatcherEvent): Promise<void> {
    const { root, onEvent, isClosed } = this.options;
    this.tail = this.tail.then(async () => {
      if (isClosed()) return;
      try {
        await onEvent(event);
      } catch (error) {
        if (event.type === 'problem') return;
        try {
          await onEvent({ type: 'problem', root, path: null, code: 'EHANDLER', message: `Handling a '${event.type}' event failed: ${errorText(error)}. Rescan the folder.`, needsRescan: true });
        } catch {
          // The handler fails on problems too; nothing more can be done here.
        }
      }
    });
    return this.tail;
  }

  /** Settles once every event queued so far was handled. */
  idle(): Promise<void> {
    return this.tail;
  }
}
