// Hands the store, the controller and the media URL builder to every component.
import { createContext, useContext, type ReactNode } from 'react';
import type { MediaUrlBuilder } from '../api/connect.ts';
import type { AppState } from './app-state.ts';
import type { Controller } from './controller.ts';
import { useStoreSelector, type Store } from './store.ts';

export interface AppServices {
  store: Store;
  controller: Controller;
  mediaUrl: MediaUrlBuilder;
  /** Running in the desktop app (IPC to the shell): native dialogs are there to use. */
  desktop: boolean;
}

const ServicesContext = createContext<AppServices | null>(null);

export function ServicesProvider({ services, children }: { services: AppServices; children: ReactNode }) {
  return <ServicesContext value={services}>{children}</ServicesContext>;
}

export function useServices(): AppServices {
  const services = useContext(ServicesContext);
  if (!services) throw new Error('useServices outside ServicesProvider');
  return services;
}

export function useAppState<T>(select: (s: AppState) => T): T {
  return useStoreSelector(useServices().store, select);
}

export function useController(): Controller {
  return useServices().controller;
}
