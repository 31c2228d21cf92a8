/*
 * The browser client's event stream: one WebSocket to /api/events, opened on the first
 * subscription, each message one JSON KdEvent, dispatched by type. When the socket drops it
 * reconnects with exponential backoff; after a reconnect it tells listeners that datasets and
 * experiments may have changed meanwhile (events sent while disconnected are lost), so stores
 * reload. It never sends anything and knows nothing of the HTTP calls.
 */
import type { KdEvent, KdEventType } from '../../../common/api';

/** The part of the DOM WebSocket this module uses (so tests can hand in a fake). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const EVENT_TYPES: readonly KdEventType[] = ['job', 'experiment', 'datasets-changed', 'experiments-changed'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A KdEvent from one message, or null when the message is not one (it is then ignored). */
export function parseEvent(data: unknown): KdEvent | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.type !== 'string' || !EVENT_TYPES.includes(value.type as KdEventType))
    return null;
  if (
    value.type === 'job' &&
    !(isObject(value.job) && typeof value.job.id === 'string' && typeof value.job.status === 'string')
  )
    return null;
  if (
    value.type === 'experiment' &&
    !(typeof value.experimentId === 'string' && isObject(value.event) && typeof value.event.type === 'string')
  )
    return null;
  return value as unknown as KdEvent;
}

/** Delay before reconnect attempt `attempt` (0-based): 500 ms doubling, at most 10 s. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000, 500 * 2 ** attempt);
}

export class EventStream {
  private readonly listeners = new Map<KdEventType, Set<(event: KdEvent) => void>>();
  private socket: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private opened = false;
  private closed = false;

  constructor(
    private readonly url: () => string,
    private readonly open: SocketFactory,
    private readonly timers: Timers
  ) {}

  on(type: KdEventType, listener: (event: KdEvent) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    if (!this.socket && this.timer === null) this.connect();
    return () => {
      set.delete(listener);
    };
  }

  /** Stops for good (tests, page unload). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
  }

  private connect(): void {
    if (this.closed) return;
    this.timer = null;
    let socket: SocketLike;
    try {
      socket = this.open(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.opened;
      this.opened = true;
      this.attempt = 0;
      if (reconnected) {
        this.dispatch({ type: 'datasets-changed' });
        this.dispatch({ type: 'experiments-changed' });
      }
    };
    socket.onmessage = (ev) => {
      const event = parseEvent(ev.data);
      if (event) this.dispatch(event);
    };
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = backoffMs(this.attempt);
    this.attempt++;
    this.timer = this.timers.setTimeout(() => this.connect(), delay);
  }

  private dispatch(event: KdEvent): void {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) {
      try {
        listener(event);
      } catch (err) {
        console.error('KD Lens: an event listener failed', err);
      }
    }
  }
}
