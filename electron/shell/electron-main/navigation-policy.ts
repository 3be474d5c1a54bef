// Who may talk to the main process and where the window may go. Pure functions of URLs so the
// policy is tested under plain Node; main.ts applies them to Electron's events.

/** The only origin the app's own pages load from (a standard, secure custom scheme). */
export const APP_ORIGIN = 'trove://app';
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function isAppUrl(url: string): boolean {
  const parsed = parse(url);
  return parsed !== null && parsed.protocol === 'trove:' && parsed.host === 'app' && parsed.username === '' && parsed.password === '';
}

/**
 * `will-navigate`: the window may only move between the app's own pages (a reload, an in-app link).
 * Everything else — a dropped file (file://), a link to the web, javascript: — is refused.
 */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url);
}

/**
 * IPC sender check: only the app's top-level frame at trove://app may call the engine. A subframe
 * or any page that somehow loaded from elsewhere is refused even though it shares the preload.
 */
export function isTrustedSender(frame: { url: string; isMainFrame: boolean } | null | undefined): boolean {
  if (!frame || !frame.isMainFrame) return false;
  return isAppUrl(frame.url);
}

/**
 * A link the user clicked that may open in the system browser (after they confirm it, see
 * ExternalLinkOpener): http(s) only, no credentials in the URL, a real host. Returns the normalised
 * URL to hand to shell.openExternal, or null to drop it (file:, smb:, custom app schemes and the
 * like can launch programs, so they are never passed on).
 */
export function externalUrlToOpen(url: string): string | null {
  const parsed = parse(url);
  if (!parsed) return null;
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  if (parsed.hostname === '') return null;
  return parsed.href;
}

/**
 * Permission requests from the renderer (camera, geolocation, notifications, clipboard-read…) are
 * denied; only writing sanitised text to the clipboard ("copy path") is allowed.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function isAllowedPermission(permission: string, requestingUrl: string | null | undefined): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && requestingUrl !== null && requestingUrl !== undefined && isAppUrl(requestingUrl);
}

/** What the shell asks before a link leaves the app (dialog.showMessageBox options, Cancel first in focus). */
export interface ExternalLinkPrompt {
  readonly type: 'question';
  readonly title: string;
  readonly message: string;
  readonly detail: string;
  readonly buttons: [string, string];
  readonly defaultId: 1;
  readonly cancelId: 1;
  readonly noLink: true;
}

/**
 * The question for an http(s) link, or null when the URL is refused outright (externalUrlToOpen).
 * The app itself has no links to the web, so any link reaching the shell came from something shown
 * in it — a library file's text, a PDF — and may be a trap: the full address and its host are shown,
 * the host as the browser will resolve it (punycode, so a look-alike name shows as xn--…).
 */
export function externalLinkPrompt(url: string): ExternalLinkPrompt | null {
  const href = externalUrlToOpen(url);
  if (href === null) return null;
  const { host } = new URL(href);
  return {
    type: 'question',
    title: 'Open link',
    message: 'Open this link in your browser?',
    detail: `${href}\n\nIt goes to ${host}. It came from a file or page shown in Trove, not from Trove itself; open it only if you trust where it came from.`,
    buttons: ['Open in browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    noLink: true,
  };
}

export interface ExternalLinkDeps {
  /** Shows the prompt; true when the person chose to open the link. */
  confirm(prompt: ExternalLinkPrompt): Promise<boolean>;
  /** shell.openExternal. */
  openExternal(url: string): Promise<void>;
}

/**
 * Opens links in the system browser only after the person confirmed each one, one question at a
 * time: a page that asks for many windows at once gets one question, the rest are dropped.
 */
export class ExternalLinkOpener {
  private asking = false;

  constructor(private readonly deps: ExternalLinkDeps) {}

  /** 'opened', 'cancelled', or 'refused' (not an http(s) link, or another question is open). */
  async open(url: string): Promise<'opened' | 'cancelled' | 'refused'> {
    const prompt = externalLinkPrompt(url);
    if (prompt === null || this.asking) return 'refused';
    this.asking = true;
    try {
      if (!(await this.deps.confirm(prompt))) return 'cancelled';
    } finally {
      this.asking = false;
    }
    await this.deps.openExternal(externalUrlToOpen(url)!);
    return 'opened';
  }
}
