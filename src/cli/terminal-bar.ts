/**
 * A cli-progress bar on a terminal for a count that grows towards a total that may be learnt
 * late (the manifest is counted while the job runs): the rebuild's and the scan's bar.
 */
import cliProgress from 'cli-progress';

export interface BarSnapshot {
  done: number;
  total: number | undefined;
}

export interface TerminalBar<S extends BarSnapshot> {
  update(snapshot: S): void;
  /** Print a line of its own: the bar is cleared, the line printed, the bar drawn again below. */
  log(line: string): void;
  stop(): void;
}

/**
 * `render` draws the text after the bar; `clearOnComplete` clears the bar on stop (the summary
 * that follows says it all) instead of leaving its last state on screen.
 */
export function createTerminalBar<S extends BarSnapshot>(stream: NodeJS.WritableStream, render: (snapshot: S) => string, clearOnComplete: boolean): TerminalBar<S> {
  let last: S | undefined;
  let started = false;
  const bar = new cliProgress.SingleBar({
    stream,
    fps: 5,
    barsize: 24,
    hideCursor: true,
    linewrap: false,
    clearOnComplete,
    // We handle SIGINT ourselves (to write the report); the bar must not exit for us.
    gracefulExit: false,
    format: (options, params) => {
      if (!last) return '';
      const drawn = last.total ? `${cliProgress.Format.BarFormat(params.progress, options)} ` : '';
      return `${drawn}${render(last)}`;
    },
  });
  return {
    update: (snapshot) => {
      last = snapshot;
      const total = snapshot.total ?? 0;
      if (!started) {
        started = true;
        bar.start(total, snapshot.done);
        return;
      }
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(snapshot.done);
    },
    // cli-progress returns the cursor to where the bar started when it stops: anything printed
    // since would be overwritten, so a line is printed with the bar stopped (and cleared), then
    // the bar starts again below it.
    log: (line) => {
      if (started) bar.stop();
      stream.write(`${line}\n`);
      if (started && last) bar.start(last.total ?? 0, last.done);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
