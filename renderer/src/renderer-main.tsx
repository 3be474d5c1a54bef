// Entry point: connect to the engine (IPC in Electron, HTTP from `trove serve`), build the store
// and controller, render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/connect.ts';
import { App } from './App.tsx';
import { initialState } from './state/app-state.ts';
import { ServicesProvider } from './state/context.tsx';
import { createController, loadTheme } from './state/controller.ts';
import { DESKTOP_SHELL, type OpenShell } from './state/open-actions.ts';
import { createStore } from './state/store.ts';
import './styles/tokens.css';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';

function NotConnected({ reason }: { reason: string }) {
  return (
    <main className="not-connected" role="alert">
      <h1>Trove cannot reach its engine</h1>
      <p>{reason}</p>
    </main>
  );
}

const container = document.getElementById('root')!;
const outcome = connect();
const theme = loadTheme();
if (theme !== 'system') document.documentElement.dataset.theme = theme;

if (!outcome.ok) {
  createRoot(container).render(<NotConnected reason={outcome.reason} />);
} else {
  const { connection } = outcome;
  const store = createStore(initialState(theme));
  const shell: OpenShell =
    connection.transport === 'ipc'
      ? DESKTOP_SHELL
      : {
          desktop: false,
          fileUrl: (itemId) => connection.mediaUrl('file', itemId),
          openTab(url) {
            const tab = window.open(url, '_blank');
            if (!tab) return false;
            tab.opener = null; // the library file's tab gets no handle on this page
            return true;
          },
          download(url, name) {
            const link = Object.assign(document.createElement('a'), { href: url, download: name, rel: 'noopener' });
            document.body.append(link);
            link.click();
            link.remove();
          },
        };
  const controller = createController(connection.api, store, connection.onConnectionChange, shell);
  createRoot(container).render(
    <StrictMode>
      <ServicesProvider services={{ store, controller, mediaUrl: connection.mediaUrl, desktop: connection.transport === 'ipc' }}>
        <App />
      </ServicesProvider>
    </StrictMode>,
  );
}
