// A tiny typed event emitter for src/core (no vscode): listeners get values, a throwing listener
// cannot break the others, and subscriptions are disposables (so views can push them on
// context.subscriptions).
//
// API: const e = new Emitter<T>(onFirst?, onLast?); const sub = e.event(listener); e.fire(v);
//      sub.dispose(); e.listenerCount; e.dispose()

export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (value: T) => void;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  /** `onFirst` runs when the first listener subscribes, `onLast` when the last one leaves. */
  constructor(
    private readonly onFirst?: () => void,
    private readonly onLast?: () => void,
    private readonly onListenerError?: (e: unknown) => void,
  ) {}

  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.onFirst?.();
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.onLast?.();
      },
    };
  };

  get listenerCount(): number {
    return this.listeners.size;
  }

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (e) {
        this.onListenerError?.(e);
      }
    }
  }

  dispose(): void {
    const had = this.listeners.size > 0;
    this.listeners.clear();
    if (had) this.onLast?.();
  }
}
