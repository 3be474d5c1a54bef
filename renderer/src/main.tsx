// Entry point: connect to the engine (IPC in Electron, HTTP from `trove serve`), build the store
// and controller, render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/connect.ts';
import { App } from './App.tsx';
import { initialState } from './state/app-state.ts';
import { ServicesProvider } from './state/context.tsx';
import { createController, loadTheme } from './state/controller.ts';
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
  const controller = createController(connection.api, store, connection.onConnectionChange);
  createRoot(container).render(
    <StrictMode>
      <ServicesProvider services={{ store, controller, mediaUrl: connection.mediaUrl, desktop: connection.transport === 'ipc' }}>
        <App />
      </ServicesProvider>
    </StrictMode>,
  );
}
