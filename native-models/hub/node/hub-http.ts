// The HTTP client every hub request goes through. Node 20's built-in fetch ignores proxy
// variables, so requests use undici's fetch with a dispatcher that honours HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY (either case). It adds the token, refuses to run in offline mode, and
// turns network failures into TransientFailure so callers can retry them.
import { Agent, EnvHttpProxyAgent, fetch, type Dispatcher, type Response } from 'undici';
import type { Env } from './hub-endpoint.ts';
import { HubError, OFFLINE_ADVICE, errorForStatus, type RequestSubject } from '../common/hub-errors.ts';
import { TransientFailure, parseRetryAfter } from '../common/retry-policy.ts';

export type { Response } from 'undici';

export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

/** Proxy variables as curl and huggingface_hub read them: lower case first, then upper case. */
export function proxySettings(env: Env): ProxySettings {
  const pick = (name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || '';
  return { httpProxy: pick('http_proxy'), httpsProxy: pick('https_proxy'), noProxy: pick('no_proxy') };
}

export interface HubHttpOptions {
  token: string | null;
  offline: boolean;
  env: Env;
}

export interface HubHttp {
  readonly hasToken: boolean;
  /** GET `url`; resolves with the response whatever its status. Network failures throw TransientFailure; an aborted signal throws its reason. */
  get(url: string, init: { headers?: Record<string, string>; signal: AbortSignal }): Promise<Response>;
  close(): Promise<void>;
}

function dispatcherFor(env: Env): Dispatcher {
  const proxies = proxySettings(env);
  // Empty strings (not undefined) so EnvHttpProxyAgent never falls back to process.env behind our back.
  // proxyTunnel off: plain-http targets go as absolute-URI requests, as curl does; https still uses CONNECT.
  // (undici 6 passes proxyTunnel on to its ProxyAgents; its EnvHttpProxyAgent typings just do not list it.)
  if (proxies.httpProxy || proxies.httpsProxy) return new EnvHttpProxyAgent({ ...proxies, proxyTunnel: false } as EnvHttpProxyAgent.Options);
  return new Agent();
}

/** Why a request failed, in words, from undici's `fetch failed` TypeError and its cause. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

export function createHubHttp(options: HubHttpOptions): HubHttp {
  let dispatcher: Dispatcher | null = null;
  return {
    hasToken: options.token !== null,
    async get(url, init) {
      if (options.offline) throw new HubError('offline', `${url} was not fetched: ${OFFLINE_ADVICE}.`);
      dispatcher ??= dispatcherFor(options.env);
      const headers: Record<string, string> = { 'user-agent': 'trove-hub-downloader', ...init.headers };
      // undici drops Authorization when a redirect leaves the origin, so the hub's CDN never sees it.
      if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
      try {
        return await fetch(url, { headers, signal: init.signal, dispatcher, redirect: 'follow' });
      } catch (error) {
        if (init.signal.aborted) throw init.signal.reason;
        throw new TransientFailure(`could not reach ${new URL(url).host} (${describeNetworkError(error)})`, null, { cause: error });
      }
    },
    async close() {
      const d = dispatcher;
      dispatcher = null;
      await d?.destroy();
    },
  };
}

/** Throws unless the response is 2xx: TransientFailure for 429/5xx (after discarding the body), HubError otherwise. */
export async function expectOk(response: Response, subject: RequestSubject): Promise<void> {
  if (response.ok) return;
  await response.body?.cancel().catch(() => undefined);
  if (response.status === 429 || response.status >= 500) {
    throw new TransientFailure(`${new URL(response.url || subject.endpoint).host} answered HTTP ${response.status}`, parseRetryAfter(response.headers.get('retry-after')));
  }
  throw errorForStatus(response.status, response.headers.get('x-error-code'), subject);
}

/** The final TransientFailure after all retries, as the 'network' error the user sees. */
export function networkError(failure: unknown, subject: RequestSubject): HubError {
  const what = subject.file ? `${subject.file} of ${subject.repo}` : subject.repo;
  return new HubError(
    'network',
    `could not download ${what}: ${(failure as Error).message}. Check your connection (and HTTPS_PROXY if you are behind a proxy), then retry; the download resumes where it stopped.`,
    { cause: failure },
  );
}
