/** Work priorities shared by both stages: greater runs first. */
export const Priority = Object.freeze({
  /** `get()` on the request path. */
  onDemand: 1,
  /** `rebuild()` and background completions. */
  batch: 0,
});

export interface ScheduleOptions {
  priority: number;
  signal?: AbortSignal;
}
