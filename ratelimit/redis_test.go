package ratelimit

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment of the child processes of TestRedisTwoProcesses.
const (
	childEnv       = "PLINTH_RATELIMIT_CHILD"
	childPrefixEnv = "PLINTH_RATELIMIT_CHILD_PREFIX"
	childMaxEnv    = "PLINTH_RATELIMIT_CHILD_MAX"
	childTriesEnv  = "PLINTH_RATELIMIT_CHILD_TRIES"
)

// TestMain runs the child of TestRedisTwoProcesses when the test binary is
// started as one; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild spends the shared budget as a separate process would: its own
// client and limiter, then prints how many of its tries were allowed.
func runChild() int {
	max, _ := strconv.Atoi(os.Getenv(childMaxEnv))
	tries, _ := strconv.Atoi(os.Getenv(childTriesEnv))
	opt, err := redis.ParseURL(redisURL())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	client := redis.NewClient(opt)
	defer client.Close()
	l := NewRedis(client, os.Getenv(childPrefixEnv))
	allowed := 0
	for range tries {
		ok, _, err := l.Allow(context.Background(), "budget", max, time.Hour)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if ok {
			allowed++
		}
	}
	fmt.Printf("allowed %d\n", allowed)
	return 0
}

func redisURL() string {
	if u := os.Getenv("PLINTH_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// newRedisClient returns a client to the test Redis, closed with t; it
// skips t when Redis is unreachable unless PLINTH_REQUIRE_SERVICES=1.
func newRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatalf("PLINTH_TEST_REDIS_URL: %v", err)
	}
	opt.DialTimeout = 2 * time.Second
	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis at %s is required (PLINTH_REQUIRE_SERVICES=1) but unreachable: %v", redisURL(), err)
		}
		t.Skipf("Redis at %s unreachable, skipping (set PLINTH_TEST_REDIS_URL): %v", redisURL(), err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// testPrefix returns a key prefix unique to this run of t, and deletes every
// key under it when t ends.
func testPrefix(t *testing.T, client *redis.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	prefix := "plinth-test:ratelimit:" + name + ":" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scan %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("delete test keys: %v", err)
			}
		}
	})
	return prefix
}

func TestRedisBasic(t *testing.T) {
	client := newRedisClient(t)
	prefix := testPrefix(t, client)
	ctx := context.Background()
	clk := newFakeClock(epoch(1_000_000_000, 0))
	l := NewRedis(client, prefix)
	l.now = clk.Now
	const w = 10 * time.Second
	for i := range 3 {
		if ok, _ := mustAllow(t, l, "k", 3, w); !ok {
			t.Fatalf("request %d denied", i)
		}
	}
	ok, retry := mustAllow(t, l, "k", 3, w)
	if want := w + 3_333_334*time.Microsecond; ok || retry != want {
		t.Fatalf("4th: allowed=%v retry=%v, want denied for %v", ok, retry, want)
	}
	// The state is one hash under the prefix, expiring two windows after
	// its window began.
	ttl, err := client.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= w || ttl > 2*w {
		t.Fatalf("PTTL = %v, %v; want in (%v, %v]", ttl, err, w, 2*w)
	}
	if ok, _, err := l.Peek(ctx, "k", 3, w); ok || err != nil {
		t.Fatalf("Peek: %v %v", ok, err)
	}
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _ := client.Exists(ctx, prefix+"k").Result(); n != 0 {
		t.Fatal("Reset left the key")
	}
	if ok, _, err := l.Peek(ctx, "k", 3, w); !ok || err != nil {
		t.Fatalf("Peek after Reset: %v %v", ok, err)
	}
	if n, _ := client.Exists(ctx, prefix+"k").Result(); n != 0 {
		t.Fatal("Peek wrote a key")
	}
	if ok, retry, err := l.Allow(ctx, "k", 0, w); ok || retry != w || err != nil {
		t.Fatalf("max 0: %v %v %v", ok, retry, err)
	}
	// Without the test clock, the server's clock is used.
	srv := NewRedis(client, prefix)
	for i := range 2 {
		if ok, _ := mustAllow(t, srv, "server-clock", 2, time.Hour); !ok {
			t.Fatalf("server clock: request %d denied", i)
		}
	}
	if ok, retry := mustAllow(t, srv, "server-clock", 2, time.Hour); ok || retry <= 0 || retry > 2*time.Hour {
		t.Fatalf("server clock: allowed=%v retry=%v", ok, retry)
	}
}

// TestRedisSameAsMemory replays random traffic on both limiters with the
// same clock: every answer must be identical.
func TestRedisSameAsMemory(t *testing.T) {
	client := newRedisClient(t)
	prefix := testPrefix(t, client)
	ctx := context.Background()
	clk := newFakeClock(epoch(1_700_000_000, 123456*time.Microsecond))
	mem := NewMemory(WithClock(clk.Now))
	red := NewRedis(client, prefix)
	red.now = clk.Now
	r := rand.New(rand.NewPCG(3, 4))
	type op struct {
		key    string
		max    int
		window time.Duration
	}
	ops := []op{{"a", 3, 2 * time.Second}, {"b", 1, time.Second}, {"c", 10, 5 * time.Second}}
	for i := range 600 {
		clk.Add(time.Duration(r.IntN(400_000)) * time.Microsecond)
		o := ops[r.IntN(len(ops))]
		var mOK, rOK bool
		var mRetry, rRetry time.Duration
		var mErr, rErr error
		switch r.IntN(10) {
		case 0:
			mOK, mRetry, mErr = mem.Peek(ctx, o.key, o.max, o.window)
			rOK, rRetry, rErr = red.Peek(ctx, o.key, o.max, o.window)
		case 1:
			mErr, rErr = mem.Reset(ctx, o.key), red.Reset(ctx, o.key)
		default:
			mOK, mRetry, mErr = mem.Allow(ctx, o.key, o.max, o.window)
			rOK, rRetry, rErr = red.Allow(ctx, o.key, o.max, o.window)
		}
		if mErr != nil || rErr != nil {
			t.Fatalf("op %d: %v / %v", i, mErr, rErr)
		}
		if mOK != rOK || mRetry != rRetry {
			t.Fatalf("op %d %+v at %v: memory (%v, %v), redis (%v, %v)", i, o, clk.Now().UnixMicro(), mOK, mRetry, rOK, rRetry)
		}
	}
}

// TestRedisSharedBudget has two limiters with their own clients, as two
// instances would, spend one budget concurrently.
func TestRedisSharedBudget(t *testing.T) {
	clients := []*redis.Client{newRedisClient(t), newRedisClient(t)}
	prefix := testPrefix(t, clients[0])
	const max, tries = 100, 80
	var allowed [2]atomic.Int64
	var wg sync.WaitGroup
	for i, c := range clients {
		l := NewRedis(c, prefix)
		for range 4 {
			wg.Go(func() {
				for range tries {
					ok, _, err := l.Allow(context.Background(), "budget", max, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						allowed[i].Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	a, b := allowed[0].Load(), allowed[1].Load()
	if a+b != max || a == 0 || b == 0 {
		t.Fatalf("allowed %d + %d, want %d in all with both > 0", a, b, max)
	}
}

// TestRedisTwoProcesses starts two copies of the test binary that each
// spend the same Redis budget: together they get exactly the budget.
func TestRedisTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	client := newRedisClient(t)
	prefix := testPrefix(t, client)
	const max, tries = 60, 50
	cmds := make([]*exec.Cmd, 2)
	outs := make([]*bufio.Scanner, 2)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			childEnv+"=1",
			childPrefixEnv+"="+prefix,
			childMaxEnv+"="+strconv.Itoa(max),
			childTriesEnv+"="+strconv.Itoa(tries),
			"PLINTH_TEST_REDIS_URL="+redisURL(),
		)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmds[i], outs[i] = cmd, bufio.NewScanner(out)
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for i, cmd := range cmds {
		n := -1
		for outs[i].Scan() {
			if v, ok := strings.CutPrefix(outs[i].Text(), "allowed "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		if n <= 0 {
			t.Fatalf("child %d: allowed %d, want some", i, n)
		}
		total += n
	}
	if total != max {
		t.Fatalf("two processes allowed %d in all, want %d", total, max)
	}
}

func TestFailedLoginsRedis(t *testing.T) {
	client := newRedisClient(t)
	prefix := testPrefix(t, client)
	clk := newFakeClock(epoch(1_700_000_000, 0))
	l := NewRedis(client, prefix)
	l.now = clk.Now
	testFailedLogins(t, l, clk.Add)
	// No identity in the clear among the keys.
	keys, err := client.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no keys written")
	}
	for _, k := range keys {
		if strings.Contains(strings.ToLower(k), "example.com") {
			t.Fatalf("identity in the clear: %s", k)
		}
	}
}

// TestRedisDown checks that an unreachable Redis is an error, not a denial
// or a hang.
func TestRedisDown(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	l := NewRedis(client, "x:")
	ok, _, err := l.Allow(context.Background(), "k", 1, time.Second)
	if err == nil || ok {
		t.Fatalf("allowed=%v err=%v, want an error", ok, err)
	}
	if _, err := NewFailedLogins(l, LoginLimits{}).Check(context.Background(), "a@b.c", "1.2.3.4"); err == nil {
		t.Fatal("Check: want an error")
	}
}
