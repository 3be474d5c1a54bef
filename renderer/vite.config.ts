// Builds the React renderer. `base: './'` keeps every asset URL relative, so the same build works
// when Electron loads it from trove:// and when `trove serve` hosts it over http.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The config's own folder (no node:url import: renderer/ stays free of Node built-ins for the lint rule).
const rendererRoot = import.meta.dirname;
/**
 * `npm run dev:renderer` talks to a running `trove serve`: start it, then
 * `TROVE_SERVER=http://127.0.0.1:PORT npm run dev:renderer` and open the dev URL with the same
 * `#token=…` the server printed. The server accepts only its own Host and Origin, so the proxy
 * presents both as the server's.
 */
const engineOrigin = new URL(process.env.TROVE_SERVER ?? 'http://127.0.0.1:7457').origin;
const toEngine = {
  target: engineOrigin,
  changeOrigin: true,
  configure(proxy: { on(event: 'proxyReq' | 'proxyReqWs', listener: (request: { setHeader(name: string, value: string): void }) => void): void }) {
    proxy.on('proxyReq', (request) => request.setHeader('origin', engineOrigin));
    proxy.on('proxyReqWs', (request) => request.setHeader('origin', engineOrigin));
  },
};

export default defineConfig({
  root: rendererRoot,
  base: './',
  plugins: [react()],
  build: {
    // Relative to root: renderer/dist.
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': { ...toEngine, ws: true },
      '/media': toEngine,
    },
  },
});
