/*
 * The session token of the browser client: `kd-lens serve` opens the page at /?token=TOKEN. The
 * token is moved into sessionStorage (so a reload keeps working) and taken out of the visible URL
 * (so it is not copied, bookmarked or shown in screenshots). Knows nothing of HTTP.
 */

export const TOKEN_KEY = 'kd-lens-token';

export interface TokenLocation {
  pathname: string;
  search: string;
  hash: string;
}

export interface TokenHistory {
  replaceState(data: unknown, unused: string, url?: string): void;
}

export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The token from `?token=` when present (stored, then removed from the URL with replaceState,
 * keeping every other parameter and the hash), else the one stored earlier in this session.
 */
export function takeToken(location: TokenLocation, history: TokenHistory, storage: TokenStorage): string | null {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}
