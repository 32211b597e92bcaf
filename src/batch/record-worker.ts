/**
 * A record worker: the child process `ProcessPool` forks. It builds one regenerator from the
 * parent's `start` message, rebuilds each record it is sent (as many at once as the parent
 * sends: the parent bounds the window) and answers each with its result.
 *
 * The parent coordinates everything else. Its terminal's Ctrl-C reaches the whole process
 * group, so SIGINT and SIGTERM are ignored here: the parent decides whether records in flight
 * finish or are abandoned. When the parent dies (even by SIGKILL) the channel closes, and the
 * worker abandons its records and exits; the parent's journal says what a resumed job redoes.
 * Its politeness is the parent's too: its regenerator's coordination (host caps, slow start,
 * pauses, circuits, failed URLs) is the parent's one coordinator, over the channel.
 */
import { ConfigError } from '../errors.js';
import { sharedAbortController } from '../linked-signal.js';
import { createRegenerator, type Regenerator } from '../regenerator/regenerator.js';
import { FileStore } from '../storage/file-store.js';
import { isCoordinationReply } from './coordination-messages.js';
import { IpcCoordinationClient } from './ipc-coordination.js';
import type { ThumbRecord } from '../types.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

if (!process.send) throw new Error('record-worker.js runs as a child process of a rethumb batch job (child_process.fork)');

let regen: Regenerator | undefined;
let flags: WorkerConfig['flags'] | undefined;
// Joined by every record in flight.
const abandon = sharedAbortController();
// Host caps, pauses, circuits and failed URLs: the parent's, shared by every worker of the job.
const coordination = new IpcCoordinationClient((request) => send(request));

function send(message: FromWorker): void {
  // The channel is gone once the parent is: nothing to tell it (a write that fails as it goes is ignored too).
  if (process.connected) process.send!(message, undefined, undefined, ignore);
}

function ignore(): void {}

function start(config: WorkerConfig): void {
  try {
    regen = createRegenerator({ ...config.regenerator, store: new FileStore(config.storeRoot), coordination: coordination.coordination });
    flags = config.flags;
    send({ t: 'ready' });
  } catch (error) {
    send({ t: 'fatal', error: error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error) });
    process.disconnect();
  }
}

function rebuild(id: number, record: unknown, verify: boolean): void {
  if (!regen || !flags) {
    send({ t: 'failed', id, error: 'a record arrived before `start`' });
    return;
  }
  regen.rebuildRecord(record as ThumbRecord, { ...flags, verify, signal: abandon.signal }).then(
    ({ record: _sent, ...result }) => send({ t: 'result', id, result }),
    (error: unknown) => send(abandon.signal.aborted ? { t: 'abandoned', id } : { t: 'failed', id, error: String((error as Error)?.stack ?? error) }),
  );
}

async function close(code: number): Promise<void> {
  abandon.abort();
  coordination.close();
  await regen?.close();
  process.exit(code);
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('disconnect', () => void close(0));
process.on('message', (message: ToWorker) => {
  if (isCoordinationReply(message)) return coordination.handle(message);
  switch (message.t) {
    case 'start':
      return start(message.config);
    case 'record':
      return rebuild(message.id, message.record, message.verify);
    case 'abort':
      return abandon.abort();
    case 'close':
      return void close(0);
  }
});
