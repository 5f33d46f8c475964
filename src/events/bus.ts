/**
 * A tiny typed emitter. Listeners run synchronously in registration order so that event order is the same for
 * everyone, but a listener can neither throw into the emitter nor leave an unhandled rejection behind: failures
 * go to `onListenerError`. Listeners must be quick (the alert dispatcher's publish is O(1)); anything slow
 * belongs behind a queue of its own.
 */

export type Listener<T> = (event: T) => void | Promise<void>;

export interface EventBusOptions {
  /** Called with the failure of a listener; itself guarded. */
  onListenerError?: (err: unknown) => void;
}

export class EventBus<T> {
  private listeners: Listener<T>[] = [];
  private readonly onListenerError: (err: unknown) => void;

  constructor(opts: EventBusOptions = {}) {
    this.onListenerError = opts.onListenerError ?? (() => undefined);
  }

  /** Returns the function that removes this listener. */
  on(listener: Listener<T>): () => void {
    // Copy on write: a listener that (un)subscribes during emit does not disturb the loop in progress.
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: T): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(event);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (err: unknown) => this.report(err));
        }
      } catch (err) {
        this.report(err);
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  private report(err: unknown): void {
    try {
      this.onListenerError(err);
    } catch {
      // The error reporter failed too; nothing sensible is left to do and the emitter must keep going.
    }
  }
}
