/** Where a command writes, and the signals that stop it: injected so commands are testable in-process. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal (a progress bar) or not (plain lines). */
  isTTY: boolean;
  /** Whether stdin is a terminal (a manifest `-` would wait for typing). */
  stdinIsTTY?: boolean;
}

export interface CliSignals {
  /** Stop taking new work (first SIGINT/SIGTERM). */
  stop: AbortSignal;
  /** Abandon work in flight (a second signal, or the grace period over). */
  abort: AbortSignal;
  /** Which signal stopped the command, if any. */
  readonly received: 'SIGINT' | 'SIGTERM' | undefined;
  /** How long records in flight may finish after `stop` before `abort` fires. */
  setGraceMs?(ms: number): void;
  /** Where the notice of a received signal is printed (a progress bar's `log`); undefined restores stderr. */
  setNotice?(print: ((line: string) => void) | undefined): void;
}

/** 130 for SIGINT, 143 for SIGTERM (128 + the signal's number, as shells report). */
export function interruptedExitCode(signal: 'SIGINT' | 'SIGTERM' | undefined): number {
  return signal === 'SIGTERM' ? 143 : 130;
}
