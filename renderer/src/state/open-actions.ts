// "Open" and "Reveal in folder", where the UI runs. In the desktop app the shell opens the file with
// its app and shows it in the file manager. In a browser (`trove serve`) a page cannot start apps:
// it opens the file in a new tab through the media route (a PDF at #page=N, a video at #t=start),
// downloads what a browser cannot show, and asks the engine to show the folder on the computer
// running Trove (normally this one: it listens on 127.0.0.1). Every outcome is said in a toast.
import type { Locator, SearchResult } from '#contract/common/entities.ts';
import type { TroveApi } from '#contract/common/trove-api.ts';
import { formatTimestamp } from '../lib/format.ts';

/** What opening needs to know about a result or a previewed item. */
export type OpenTarget = Pick<SearchResult, 'itemId' | 'name' | 'kind' | 'locator'>;

/** How the page reaches the desktop: the shell's IPC, or a browser tab. */
export type OpenShell =
  | { readonly desktop: true }
  | {
      readonly desktop: false;
      fileUrl(itemId: number): string;
      /** Opens `url` in a new tab; false when the browser blocked it. */
      openTab(url: string): boolean;
      /** Saves `url` as a download named `name`. */
      download(url: string, name: string): void;
    };

export const DESKTOP_SHELL: OpenShell = { desktop: true };

/** Office documents and the like: a browser downloads them rather than showing them. */
function browserCanShow(target: OpenTarget): boolean {
  return target.kind !== 'document';
}

/** Where in the file the match is, for a label or a sentence; null for the whole file. */
function placeOf(locator: Locator): { label: string; sentence: string } | null {
  if (locator.type === 'page') return { label: `page ${locator.page}`, sentence: `the match is on page ${locator.page}` };
  if (locator.type === 'time' && locator.start > 0) return { label: formatTimestamp(locator.start), sentence: `the moment starts at ${formatTimestamp(locator.start)}` };
  return null;
}

/** The fragment that makes a browser open the file at the match: PDF viewers take #page=, media #t=. */
function fragmentOf(target: OpenTarget): string {
  const loc = target.locator;
  if (target.kind === 'pdf' && loc.type === 'page') return `#page=${loc.page}`;
  if (target.kind === 'video' && loc.type === 'time' && loc.start > 0) return `#t=${loc.start}`;
  return '';
}

/** The open button's words and tooltip, true to what a click will do here. */
export function openButton(target: OpenTarget, desktop: boolean): { label: string; title: string } {
  const place = placeOf(target.locator);
  if (desktop) {
    // The system's apps open a file at its start: the label promises no more than that.
    return { label: 'Open', title: place ? `Open with its app (${place.sentence})` : 'Open with its app' };
  }
  if (!browserCanShow(target)) return { label: 'Download', title: 'A browser cannot show this kind of file: download it and open it from your downloads' };
  if (place && fragmentOf(target)) return { label: `Open at ${place.label}`, title: `Open ${target.name} at ${place.label} in a new tab` };
  return { label: 'Open', title: `Open ${target.name} in a new tab` };
}

export function createOpenActions(api: TroveApi, shell: OpenShell, toast: (message: string, tone?: 'info' | 'error') => void) {
  const failed = (what: string, error: unknown) => toast(`${what}: ${error instanceof Error ? error.message : String(error)}`, 'error');
  return {
    async openFile(target: OpenTarget): Promise<void> {
      const place = placeOf(target.locator);
      if (shell.desktop) {
        try {
          await api.call('files.open', { itemId: target.itemId });
          toast(`Opened ${target.name}${place ? `; ${place.sentence}` : ''}.`);
        } catch (error) {
          failed(`Could not open ${target.name}`, error);
        }
        return;
      }
      const url = `${shell.fileUrl(target.itemId)}${fragmentOf(target)}`;
      if (!browserCanShow(target)) {
        shell.download(url, target.name);
        toast(`Downloading ${target.name}: a browser cannot show this kind of file. Open it from your downloads.`);
        return;
      }
      if (!shell.openTab(url)) {
        toast(`Your browser blocked the new tab for ${target.name}. Allow pop-ups for this page, or use Copy path.`, 'error');
        return;
      }
      const at = fragmentOf(target) && place ? ` at ${place.label}` : '';
      toast(`Opened ${target.name}${at} in a new tab.`);
    },

    async revealFile(target: Pick<OpenTarget, 'itemId' | 'name'> & { path: string }): Promise<void> {
      try {
        await api.call('files.reveal', { itemId: target.itemId });
        const folder = target.path.slice(0, Math.max(target.path.lastIndexOf('/'), target.path.lastIndexOf('\\'))) || target.path;
        toast(shell.desktop ? `Showing ${target.name} in its folder.` : `Opened ${folder} in the file manager of the computer running Trove.`);
      } catch (error) {
        failed(`Could not show ${target.name} in its folder`, error);
      }
    },
  };
}
