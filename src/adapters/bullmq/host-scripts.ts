/**
 * The Lua scripts of the fleet's host coordination. Each runs atomically in Redis, reads the
 * time from Redis itself (`TIME`, so workers' clocks never disagree), and keeps one host's
 * state in three keys sharing a hash tag (one Redis Cluster slot):
 *
 * - `state` (hash): `window`, `threshold` (slow start, as `SlowStart`), `consecutive`, `open`,
 *   `openUntil`, `probe` (circuit breaker, as `CircuitBreaker`; `probe` is the lease of the one
 *   request a half-open circuit let through), `pausedUntil` (`Retry-After`);
 * - `leases` (sorted set): one member per permit out, scored by when its lease expires. A
 *   worker that dies (SIGKILL) stops renewing its leases; they expire and free their slots;
 * - `starts` (sorted set): start times inside the rate window (`perHost.intervalMs`).
 *
 * The arithmetic mirrors `SlowStart`, `CircuitBreaker` and `RateWindow` exactly; the
 * coordinator contract suite runs the same sequence against both to keep them in step.
 * Every key expires after `idleMs` without traffic (an idle host's ramp starts over, as an
 * in-process coordinator forgets idle hosts), so thousands of hosts leave nothing behind.
 */

/** Shared prelude: the time, the state, and helpers. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function limitOf(window, cap) return math.max(1, math.min(cap, math.floor(window))) end
local function keep(idleMs)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], idleMs) end
end
`;

/**
 * KEYS: state, leases, starts. ARGV: leaseId, leaseMs, cap, initial, intervalMs (0: none),
 * intervalCap, idleMs.
 * Returns { verdict, waitMs, limit, inFlight, circuit, retryInMs, pausedForMs, probe } where
 * verdict is 'granted', 'refused' (circuit open, or half-open with its probe out), 'paused',
 * 'rate' or 'full'; circuit is 'closed', 'open' or 'half-open'.
 */
export const ACQUIRE = `${PRELUDE}
local leaseId = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local initial = tonumber(ARGV[4])
local intervalMs = tonumber(ARGV[5])
local intervalCap = tonumber(ARGV[6])
local idleMs = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local s = redis.call('HMGET', KEYS[1], 'window', 'open', 'openUntil', 'probe', 'pausedUntil')
local limit = limitOf(tonumber(s[1]) or initial, cap)
local open = s[2] == '1'
local openUntil = tonumber(s[3]) or 0
local probe = s[4] or ''
local pausedUntil = tonumber(s[5]) or 0
-- The probe's holder died: its lease expired, so another request may probe.
if probe ~= '' and not redis.call('ZSCORE', KEYS[2], probe) then
  probe = ''
  redis.call('HSET', KEYS[1], 'probe', '')
end
local inFlight = redis.call('ZCARD', KEYS[2])
local circuit = 'closed'
if open then circuit = (now >= openUntil) and 'half-open' or 'open' end
local retryIn = open and math.max(0, openUntil - now) or 0
local pausedFor = math.max(0, pausedUntil - now)
local function reply(verdict, waitMs, isProbe)
  keep(idleMs)
  return { verdict, math.max(0, math.ceil(waitMs)), limit, inFlight, circuit, retryIn, pausedFor, isProbe and 1 or 0 }
end
-- Fail fast while open; while half-open, everyone but the probe waits for its verdict as if open.
if circuit == 'open' or (circuit == 'half-open' and probe ~= '') then return reply('refused', retryIn, false) end
if pausedFor > 0 then return reply('paused', pausedFor, false) end
if intervalMs > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - intervalMs)
  if redis.call('ZCARD', KEYS[3]) >= intervalCap then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return reply('rate', tonumber(oldest[2]) + intervalMs - now, false)
  end
end
if inFlight >= limit then
  local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return reply('full', tonumber(first[2]) - now, false)
end
redis.call('ZADD', KEYS[2], now + leaseMs, leaseId)
inFlight = inFlight + 1
if intervalMs > 0 then redis.call('ZADD', KEYS[3], now, leaseId) end
local isProbe = circuit == 'half-open'
if isProbe then redis.call('HSET', KEYS[1], 'probe', leaseId) end
return reply('granted', 0, isProbe)
`;

/**
 * KEYS: state, leases, starts. ARGV: leaseId, signal ('ok' | 'overload' | 'failure' |
 * 'neutral'), retryAfterMs (0: none), cap, initial, failures, coolDownMs, maxRetryAfterMs,
 * idleMs, channel ('' : none).
 * Returns { limit, limitChanged, inFlight, circuitChange ('' | 'open' | 'closed'), circuit,
 * retryInMs, pausedForMs, pauseChanged }.
 */
export const RELEASE = `${PRELUDE}
local leaseId = ARGV[1]
local signal = ARGV[2]
local retryAfterMs = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local initial = tonumber(ARGV[5])
local failures = tonumber(ARGV[6])
local coolDownMs = tonumber(ARGV[7])
local maxRetryAfterMs = tonumber(ARGV[8])
local idleMs = tonumber(ARGV[9])
local channel = ARGV[10]
redis.call('ZREM', KEYS[2], leaseId)
local s = redis.call('HMGET', KEYS[1], 'window', 'threshold', 'consecutive', 'open', 'openUntil', 'probe', 'pausedUntil')
local window = tonumber(s[1]) or initial
local threshold = tonumber(s[2]) or cap
local consecutive = tonumber(s[3]) or 0
local open = s[4] == '1'
local openUntil = tonumber(s[5]) or 0
local probe = s[6] or ''
local pausedUntil = tonumber(s[7]) or 0
local isProbe = probe ~= '' and probe == leaseId
if isProbe then probe = '' end
local before = limitOf(window, cap)
local circuitChange = ''
local pauseChanged = 0
local function restart() window = initial; threshold = cap end
if signal == 'ok' then
  -- CircuitBreaker.success: any answer closes an open circuit; SlowStart.success or restart.
  consecutive = 0
  if open then
    open = false
    circuitChange = 'closed'
    restart()
  else
    if window < threshold then window = window + 1 else window = window + 1 / window end
    window = math.min(window, cap)
  end
elseif signal == 'overload' or signal == 'failure' then
  if signal == 'overload' then
    threshold = math.max(1, math.floor(limitOf(window, cap) / 2))
    window = threshold
  end
  if retryAfterMs > 0 then
    local untilMs = now + math.min(retryAfterMs, maxRetryAfterMs)
    if untilMs > pausedUntil then
      pausedUntil = untilMs
      pauseChanged = 1
    end
  end
  -- CircuitBreaker.failure: N in a row open it; a failed probe reopens it.
  consecutive = consecutive + 1
  if (isProbe and open) or ((not open) and consecutive >= failures) then
    open = true
    openUntil = now + coolDownMs
    circuitChange = 'open'
    restart()
  end
end
redis.call('HSET', KEYS[1], 'window', tostring(window), 'threshold', tostring(threshold), 'consecutive', consecutive,
  'open', open and '1' or '0', 'openUntil', openUntil, 'probe', probe, 'pausedUntil', pausedUntil)
keep(idleMs)
local limit = limitOf(window, cap)
local circuit = 'closed'
if open then circuit = (now >= openUntil) and 'half-open' or 'open' end
-- Wake the fleet's waiters for this host: a slot freed.
if channel ~= '' then redis.call('PUBLISH', channel, KEYS[1]) end
return { limit, (limit ~= before) and 1 or 0, redis.call('ZCARD', KEYS[2]), circuitChange, circuit,
  open and math.max(0, openUntil - now) or 0, math.max(0, pausedUntil - now), pauseChanged }
`;

/** KEYS: leases. ARGV: leaseMs, idleMs, leaseId… Extends the leases still held (never re-adds an expired one). */
export const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local leaseMs = tonumber(ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + leaseMs, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;
