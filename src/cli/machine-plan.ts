/**
 * The command line's machine settings for one invocation — worker processes, render
 * concurrency and libuv's pool — from `plan-threads.cjs`, the plan the bin already applied
 * (CommonJS, so it is read here with `createRequire`), resolved against the pool this process
 * really has.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type { RegeneratorOptions } from '../options.js';

type PlanModule = typeof import('./plan-threads.cjs');

const plan = createRequire(import.meta.url)('./plan-threads.cjs') as PlanModule;

export const { CORES_PER_PROCESS, MAX_PROCESSES } = plan;

/** What the command runs with (the summary's `machine` is `machineSummary()` of it). */
export interface MachinePlan {
  /** Cores sized for: `--cores`, else this machine's. */
  cores: number;
  /** Processes rebuilding records: 1 is this one; more are workers of this one. */
  processes: number;
  /** Each process's share of the cores (its regenerator's `cores`). */
  coresPerProcess: number;
  /** Images in sharp at once, per process. */
  renderConcurrency: number;
  /** libuv's thread pool, per process. */
  threadPool: number;
}

export interface MachineInput {
  cores?: number | undefined;
  processes?: number | undefined;
  renderConcurrency?: number | undefined;
}

export function planMachine(input: MachineInput, env: NodeJS.ProcessEnv = process.env): MachinePlan {
  return plan.planThreads({
    cores: input.cores ?? availableParallelism(),
    ...(input.processes === undefined ? {} : { processes: input.processes }),
    ...(input.renderConcurrency === undefined ? {} : { renderConcurrency: input.renderConcurrency }),
    // The pool this process started with — the bin's plan, the user's `UV_THREADPOOL_SIZE`, or
    // libuv's default when the CLI runs without its bin — and its workers inherit.
    threadPool: plan.threadPoolOfEnv(env.UV_THREADPOOL_SIZE) ?? plan.LIBUV_DEFAULT_THREAD_POOL,
  });
}

/** `regenerator` sized by `machine`: each process's share of the cores, its render concurrency. */
export function sizedRegenerator(regenerator: RegeneratorOptions, machine: MachinePlan): RegeneratorOptions {
  return { ...regenerator, cores: machine.coresPerProcess, renderConcurrency: machine.renderConcurrency };
}

/** What the summary reports (`--json`, `--report`): the settings the job ran with. */
export function machineSummary(machine: MachinePlan): Pick<MachinePlan, 'cores' | 'processes' | 'renderConcurrency' | 'threadPool'> {
  return { cores: machine.cores, processes: machine.processes, renderConcurrency: machine.renderConcurrency, threadPool: machine.threadPool };
}
