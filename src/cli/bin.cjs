#!/usr/bin/env node
'use strict';
/**
 * The `rethumb` bin. CommonJS, because it must size libuv's thread pool before the pool starts:
 * Node loads ES modules through that pool, so by the time the first line of an ES module runs
 * the pool has its four default threads for good — and sharp renders on those threads, so four
 * threads would cap a 32-core machine at three images at once. It sets `UV_THREADPOOL_SIZE`
 * from the plan (`plan-threads.cjs`; a value the user set wins, and worker processes inherit
 * it), then loads the ES module command line (`main.js`).
 */
const { availableParallelism } = require('node:os');
const { planInputOfArgv, planThreads, threadPoolOfEnv } = require('./plan-threads.cjs');

if (threadPoolOfEnv(process.env.UV_THREADPOOL_SIZE) === undefined) {
  const plan = planThreads(planInputOfArgv(process.argv.slice(2), availableParallelism()));
  process.env.UV_THREADPOOL_SIZE = String(plan.threadPool);
}

import('./main.js').catch((error) => {
  process.stderr.write(`rethumb: ${String((error && error.stack) || error)}\n`);
  process.exitCode = 1;
});
