// The window: sidebar, the current view, quick look, the drop guard and toasts; global shortcuts and the theme.
import { useEffect } from 'react';
import { FoldersView } from './components/FoldersView.tsx';
import { ImageDropZone } from './components/ImageDropZone.tsx';
import { IndexingProgressView } from './components/IndexingProgress.tsx';
import { QuickLook } from './components/PreviewPane.tsx';
import { SearchView } from './components/SearchView.tsx';
import { SettingsView } from './components/SettingsView.tsx';
import { NAV_SHORTCUTS, Sidebar } from './components/Sidebar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { useAppState, useController, useServices } from './state/context.tsx';

function useTheme() {
  const theme = useAppState((s) => s.theme);
  useEffect(() => {
    // "system" leaves the attribute off so the prefers-color-scheme rules in tokens.css decide.
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
}

function useGlobalShortcuts() {
  const controller = useController();
  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      const mod = e.metaKey || e.ctrlKey;
      if (mod && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        controller.showAndFocus('search', 'search');
        return;
      }
      const nav = mod && !e.shiftKey && !e.altKey ? NAV_SHORTCUTS.find((n) => n.key === e.key) : undefined;
      if (nav) {
        e.preventDefault();
        controller.setView(nav.view);
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [controller]);
}

function CurrentView() {
  const view = useAppState((s) => s.view);
  switch (view) {
    case 'search':
      return <SearchView />;
    case 'folders':
      return <FoldersView />;
    case 'indexing':
      return <IndexingProgressView />;
    case 'settings':
      return <SettingsView />;
  }
}

function LinkBanner() {
  const lost = useAppState((s) => s.link === 'lost');
  const engineMessage = useAppState((s) => s.engineMessage);
  // In the desktop app the link drops only when the engine process stops, and the shell restarts
  // it; its message says why and when (a data folder it cannot open keeps failing, with the reason).
  const { desktop } = useServices();
  if (!lost) return null;
  return (
    <div className="link-banner" role="status">
      <span className="spinner" aria-hidden="true" />{' '}
      {desktop ? `${engineMessage ?? 'Trove’s engine stopped unexpectedly and is restarting.'} Your library is safe; indexing goes on where it stopped.` : 'Lost the connection to Trove. Reconnecting…'}
    </div>
  );
}

export function App() {
  const controller = useController();
  const quickLook = useAppState((s) => s.preview.quickLook && s.preview.itemId !== null);
  useTheme();
  useGlobalShortcuts();
  useEffect(() => controller.start(), [controller]);

  return (
    <div className="app">
      <Sidebar />
      <main className="app__main">
        <LinkBanner />
        <CurrentView />
      </main>
      {quickLook && <QuickLook />}
      {/* On every view: a dropped file never makes the window navigate away (an image becomes the query). */}
      <ImageDropZone />
      <Toasts />
    </div>
  );
}
