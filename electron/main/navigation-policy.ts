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
 * A link the user clicked that should open in the system browser: http(s) only, no credentials in
 * the URL, a real host. Returns the normalised URL to hand to shell.openExternal, or null to drop it
 * (file:, smb:, custom app schemes and the like can launch programs, so they are never passed on).
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
