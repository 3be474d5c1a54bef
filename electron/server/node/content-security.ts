// Every Content-Security-Policy Trove sends, from one definition: the app's page as the desktop
// shell serves it (trove://app), the same page as `trove serve` serves it (http://127.0.0.1), and
// library files opened directly (media). The two app policies differ only where the page finds its
// media and its API; everything else (only the app's own scripts, no plugins, no <base>, no form
// submissions, no framing) is shared, so a directive added here reaches both.

/** Where the app's page loads media from and talks to the engine, per transport. */
const APP_SOURCES = {
  /** The Electron shell: media over trove://media; the API over IPC (no network connections). */
  shell: { media: ['trove:'], connect: [] },
  /** `trove serve`: media and the API on the server's own origin, events over a loopback WebSocket. */
  server: { media: [], connect: ['ws://127.0.0.1:*'] },
} as const;

export type AppHost = keyof typeof APP_SOURCES;

function policy(directives: readonly (readonly [string, ...string[]])[]): string {
  return directives.map((d) => d.join(' ')).join('; ');
}

/** The app page's policy for one host. */
export function appContentSecurityPolicy(host: AppHost): string {
  const { media, connect } = APP_SOURCES[host];
  return policy([
    ['default-src', "'self'"],
    ['img-src', "'self'", ...media, 'blob:', 'data:'],
    ['media-src', "'self'", ...media],
    ...(connect.length > 0 ? [['connect-src', "'self'", ...connect] as const] : []),
    ['script-src', "'self'"],
    ['style-src', "'self'", "'unsafe-inline'"],
    ['object-src', "'none'"],
    ['base-uri', "'none'"],
    // The app's forms are handled by script (submit is prevented); nothing may post anywhere.
    ['form-action', "'none'"],
    ['frame-ancestors', "'none'"],
  ]);
}

/**
 * Library files opened directly (an HTML page, an SVG with script): nothing of theirs runs on the
 * app's origin (`sandbox`, no scripts), and a form in them cannot submit anywhere.
 */
export const MEDIA_CSP = policy([
  ['default-src', "'none'"],
  ['img-src', "'self'", 'data:'],
  ['media-src', "'self'"],
  ['style-src', "'unsafe-inline'"],
  ['form-action', "'none'"],
  ['sandbox'],
]);
