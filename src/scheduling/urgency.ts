/**
 * A priority that can only go up while work waits: when a `get()` joins a record a rebuild
 * already queued, the shared download must stop waiting behind batch work.
 */
export class Urgency {
  #value: number;
  readonly #watchers = new Set<(priority: number) => void>();

  constructor(priority: number) {
    this.#value = priority;
  }

  /** The current priority (greater runs first). */
  get value(): number {
    return this.#value;
  }

  /** Raise to `priority` (never lowers) and tell every watcher. */
  raise(priority: number): void {
    if (!(priority > this.#value)) return;
    this.#value = priority;
    for (const watcher of [...this.#watchers]) watcher(priority);
  }

  /** Call `watcher` on every raise until the returned function is called. */
  watch(watcher: (priority: number) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }
}
