// GET /api/events: one WebSocket per page, pushing every API event as `{ event, payload }` after
// validating the payload against the contract (an engine bug must not reach the UI unchecked).
// Clients only listen; anything they send is ignored. A client too slow to keep up is dropped
// (it reconnects and refetches), so one stuck tab cannot grow the server's memory.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { API_EVENTS, type ApiEvent } from '../../contract/common/api-events.ts';
import type { ApiEventSource } from '../../contract/common/in-process-api.ts';

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const HEARTBEAT_MS = 30_000;

export interface EventSocketHub {
  accept(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly clientCount: number;
  close(): void;
}

export function createEventSocketHub(events: ApiEventSource, log: (line: string) => void): EventSocketHub {
  const server = new WebSocketServer({ noServer: true, maxPayload: 4096, clientTracking: false });
  const clients = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();

  function broadcast(event: ApiEvent, payload: unknown): void {
    const checked = API_EVENTS[event].safeParse(payload);
    if (!checked.success) {
      log(`dropped event ${event}: its payload does not match the contract (${checked.error.issues[0]?.message ?? 'invalid'})`);
      return;
    }
    const message = JSON.stringify({ event, payload: checked.data });
    for (const client of clients) {
      if (client.readyState !== 1) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        client.terminate();
        continue;
      }
      client.send(message);
    }
  }

  const unsubscribers = (Object.keys(API_EVENTS) as ApiEvent[]).map((event) => events.on(event, (payload) => broadcast(event, payload)));

  // Pings find connections that died without a close (a laptop that slept, a killed tab).
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    accept(request, socket, head) {
      server.handleUpgrade(request, socket, head, (client) => {
        clients.add(client);
        alive.add(client);
        client.on('pong', () => alive.add(client));
        client.on('close', () => clients.delete(client));
        client.on('error', () => client.terminate());
      });
    },
    get clientCount() {
      return clients.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const unsubscribe of unsubscribers) unsubscribe();
      for (const client of clients) client.close(1001, 'trove serve is shutting down');
      server.close();
    },
  };
}
