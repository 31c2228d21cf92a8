/*
 * Which view is shown: a hash route (#/datasets, #/annotate?dataset=demo&sample=s1, ...) so that
 * views are links (reachable by keyboard, back button works) and a reload keeps the place. Tiny on
 * purpose: five views, string parameters, no nesting. Knows nothing of what the views show.
 */
import { reactive } from 'vue';

export const VIEWS = [
  { name: 'datasets', label: 'Datasets', key: '1' },
  { name: 'annotate', label: 'Annotate', key: '2' },
  { name: 'experiment', label: 'Experiment', key: '3' },
  { name: 'results', label: 'Results', key: '4' },
  { name: 'inspector', label: 'Inspector', key: '5' }
] as const;
export type ViewName = (typeof VIEWS)[number]['name'];
export const DEFAULT_VIEW: ViewName = 'experiment';

export interface Route {
  view: ViewName;
  params: Record<string, string>;
}

export const route = reactive<Route>({ view: DEFAULT_VIEW, params: {} });

/** The route of a location hash ('#/annotate?dataset=demo'); unknown views fall back to the default. */
export function parseHash(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  const [name, query = ''] = body.split('?', 2);
  const view = VIEWS.find((v) => v.name === name)?.name ?? DEFAULT_VIEW;
  return { view, params: Object.fromEntries(new URLSearchParams(query)) };
}

export function hrefOf(view: ViewName, params: Record<string, string | null | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return `#/${view}${s ? `?${s}` : ''}`;
}

export function navigate(view: ViewName, params: Record<string, string | null | undefined> = {}): void {
  const href = hrefOf(view, params);
  if (window.location.hash === href) return;
  window.location.hash = href;
  sync();
}

/** Changes parameters of the current view without a new history entry. */
export function replaceParams(params: Record<string, string | null | undefined>): void {
  const href = hrefOf(route.view, { ...route.params, ...params });
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}${href}`);
  sync();
}

function sync(): void {
  const next = parseHash(window.location.hash);
  route.view = next.view;
  route.params = next.params;
}

export function startRouter(): void {
  window.addEventListener('hashchange', sync);
  sync();
}
