-- One attempt, atomically: trim expired window entries, read every feature, count the attempt.
-- Redis runs a script alone, so two concurrent attempts of one account cannot both read
-- "0 before me" (the read-then-count race a MULTI of separate reads and writes would leave).
-- Semantics mirror features.MemoryFeatureStore (see its docstring); times are integer ms
-- passed as strings (a Lua double holds them exactly; tostring() would round them).
--
-- KEYS: 1 out:{src}  2 in:{src}  3 wd:{src}  4 newben:{src}  5 bens:{src}  6 hist:{src}
--       7 in:{dst}  8 dsrc:{dst}  9 ip:{ip}  10 dev:{device}
-- ARGV: 1 t  2 t-10m  3 t-1h  4 member ("<transfer id>|<amount>")  5 src  6 dst  7 ip  8 device
--       ("" when absent)  9 window key TTL (ms)
-- Returns the raw counts in the order of features_redis.RAW.
local t, t10, t60, m = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local src, dst, ip, dev, ttl = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]

local function read(key, lo, trim)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', trim)
    return redis.call('ZRANGEBYSCORE', key, '(' .. lo, t)
end
local function sum(entries)
    local s = 0
    for _, e in ipairs(entries) do s = s + tonumber(string.match(e, '|(%d+)$')) end
    return s
end
local function add(key, member)
    redis.call('ZADD', key, t, member)
    redis.call('PEXPIRE', key, ttl)
end
local function add_max(key, member)  -- a distinct-set: keep the latest time per member
    local old = redis.call('ZSCORE', key, member)
    if (not old) or tonumber(old) < tonumber(t) then redis.call('ZADD', key, t, member) end
    redis.call('PEXPIRE', key, ttl)
end

local r = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
if src ~= '' then
    local hour = read(KEYS[1], t60, t60)
    local ten = read(KEYS[1], t10, t60)
    r[1], r[2], r[3], r[4] = #ten, sum(ten), #hour, sum(hour)
    r[5] = sum(read(KEYS[2], t60, t60))
    r[6] = #read(KEYS[3], t60, t60)
    r[7] = #read(KEYS[4], t60, t60)
    local h = redis.call('HMGET', KEYS[6], 'n', 'sum')
    r[8], r[9] = tonumber(h[1] or 0) or 0, tonumber(h[2] or 0) or 0
    if dst ~= '' and redis.call('SISMEMBER', KEYS[5], dst) == 0 then r[10] = 1 end
end
if dst ~= '' then
    r[11] = #read(KEYS[7], t60, t60)
    r[12] = #read(KEYS[8], t60, t60)
end
if ip ~= '' then r[13] = #read(KEYS[9], t10, t10) end
if dev ~= '' then r[14] = #read(KEYS[10], t60, t60) end

if src ~= '' then
    add(KEYS[1], m)
    if dst == '' then add(KEYS[3], m) end
    if r[10] == 1 then add_max(KEYS[4], dst) end
    if ip ~= '' then add(KEYS[9], m) end
    if dev ~= '' then add_max(KEYS[10], src) end
end
if dst ~= '' then
    add(KEYS[7], m)
    if src ~= '' then add_max(KEYS[8], src) end
end
return r
