package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisScript is decide in Lua, run atomically by Redis on one hash per key
// (fields s: window start, c: current count, p: previous count; times in
// µs). ARGV: max, window, consume ("1" or "0"), and optionally the time in
// µs, which only tests pass; otherwise the Redis server's clock is used so
// that every instance agrees whatever its own clock says. Lua numbers are
// doubles, exact for these integers (µs since the epoch < 2^53).
const redisScript = `
local max = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local now
if ARGV[4] ~= nil and ARGV[4] ~= "" then
  now = tonumber(ARGV[4])
else
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local start = now - (now % w)
local v = redis.call("HMGET", KEYS[1], "s", "c", "p")
local s = tonumber(v[1])
local c = tonumber(v[2]) or 0
local p = tonumber(v[3]) or 0
if s == nil then
  c, p = 0, 0
elseif s > start then
  start = s
elseif s == start then
elseif s + w == start then
  p, c = c, 0
else
  c, p = 0, 0
end
local elapsed = math.max(now - start, 0)
if p * (w - elapsed) + c * w <= (max - 1) * w then
  if ARGV[3] == "1" then
    c = c + 1
    redis.call("HSET", KEYS[1], "s", start, "c", c, "p", p)
    redis.call("PEXPIRE", KEYS[1], math.max(math.ceil((start + 2 * w - now) / 1000), 1))
  end
  return {1, 0}
end
if c <= max - 1 then
  return {0, w - math.floor((max - 1 - c) * w / p) - elapsed}
end
return {0, start + w - now + w - math.floor((max - 1) * w / c)}
`

// Redis is a [Store] kept in Redis, so that every instance using the same
// server and prefix shares one budget per key. Each key is one hash named
// prefix+key, updated atomically by a Lua script and expiring once it no
// longer counts. It is safe for concurrent use.
type Redis struct {
	client redis.UniversalClient
	prefix string
	script *redis.Script
	// now, when set (tests only), replaces the Redis server's clock.
	now func() time.Time
}

// NewRedis returns a limiter that keeps its counters in client under keys
// starting with prefix (for example "plinth:rl:").
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, script: redis.NewScript(redisScript)}
}

// Allow implements [Limiter].
func (r *Redis) Allow(ctx context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	return r.do(ctx, key, max, window, true)
}

// Peek implements [Store].
func (r *Redis) Peek(ctx context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	return r.do(ctx, key, max, window, false)
}

// Reset implements [Store].
func (r *Redis) Reset(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
	return nil
}

func (r *Redis) do(ctx context.Context, key string, max int, window time.Duration, consume bool) (bool, time.Duration, error) {
	w, err := windowMicros(window)
	if err != nil {
		return false, 0, err
	}
	if max <= 0 {
		return false, window, nil
	}
	c := "0"
	if consume {
		c = "1"
	}
	now := ""
	if r.now != nil {
		now = fmt.Sprint(r.now().UnixMicro())
	}
	res, err := r.script.Run(ctx, r.client, []string{r.prefix + key}, max, w, c, now).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("ratelimit: redis: unexpected script reply %v", res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Microsecond, nil
}
