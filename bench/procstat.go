package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. It is
// 100 on every mainstream Linux build; reading it needs sysconf (cgo).
const clockTicks = 100

// cpuSeconds returns the user+system CPU time the process has used so far,
// from fields 14 and 15 of /proc/<pid>/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime+stime (in seconds) from a /proc/<pid>/stat line.
// The command name may contain spaces, so fields are counted from its ")".
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: malformed stat line")
	}
	fields := strings.Fields(string(stat[i+1:]))
	// After ")" come field 3 (state) onwards; utime is field 14, stime 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("procstat: short stat line")
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procstat: bad utime/stime %q %q", fields[11], fields[12])
	}
	return float64(utime+stime) / clockTicks, nil
}

// hostBusySeconds returns the CPU time all processes on the machine have
// used so far (user, nice, system, irq, softirq, steal), from /proc/stat.
func hostBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseHostBusy(b)
}

func parseHostBusy(stat []byte) (float64, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("procstat: malformed /proc/stat")
	}
	var busy uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, err
		}
		busy += n
	}
	return float64(busy) / clockTicks, nil
}

// commCPUSeconds sums the CPU time used so far by every process whose
// command name is comm (e.g. the PostgreSQL backends, all named
// "postgres"). Processes that exit between two calls drop out of the sum,
// which is fine for pooled, long-lived database connections.
func commCPUSeconds(comm string) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	want := []byte("(" + comm + ")")
	var total float64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil || !bytes.Contains(b, want) {
			continue
		}
		if cpu, err := parseStatCPU(b); err == nil {
			total += cpu
		}
	}
	return total
}

// memStatus reads a "VmXXX:   1234 kB" line of /proc/<pid>/status in bytes.
func memStatus(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return parseStatusKB(bufio.NewScanner(f), key)
}

func parseStatusKB(sc *bufio.Scanner, key string) (int64, error) {
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("procstat: %s not found", key)
}

// ProcSample is the resource use of a server process over one measured phase.
type ProcSample struct {
	// CPUSeconds is utime+stime spent during the phase.
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSS is the highest VmRSS sampled during the phase, in bytes.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// HWM is the process's lifetime VmHWM at the end of the phase, in bytes.
	HWM int64 `json:"vm_hwm_bytes"`
	// DBCPUSeconds is the CPU the database server's processes used during
	// the phase (PostgreSQL only; SQLite runs inside the server process).
	DBCPUSeconds float64 `json:"db_cpu_seconds,omitempty"`
	// LoaderCPUSeconds is the CPU the harness itself (mostly the load
	// generator) used during the phase.
	LoaderCPUSeconds float64 `json:"loader_cpu_seconds"`
	// BackgroundShare is the share of the machine's CPU capacity used by
	// everything except the server under test, its database and the harness during the
	// phase (0..1). Above ~0.15 the figures are disturbed by other work.
	BackgroundShare float64 `json:"background_cpu_share"`
}

// procMonitor samples a process's RSS while a phase runs.
type procMonitor struct {
	pid       int
	cpuStart  float64
	selfStart float64
	hostStart float64
	dbComm    string // process name of the database server, or ""
	dbStart   float64
	started   time.Time
	peak      int64
	mu        sync.Mutex
	cancel    context.CancelFunc
	done      chan struct{}
}

// startMonitor records the CPU baseline and starts sampling VmRSS every
// interval until stop is called. dbComm names the database server's
// processes ("postgres") so their CPU is counted apart; "" for none.
func startMonitor(ctx context.Context, pid int, dbComm string, interval time.Duration) *procMonitor {
	m := &procMonitor{pid: pid, dbComm: dbComm, done: make(chan struct{})}
	if dbComm != "" {
		m.dbStart = commCPUSeconds(dbComm)
	}
	m.cpuStart, _ = cpuSeconds(pid)
	m.selfStart, _ = cpuSeconds(os.Getpid())
	m.hostStart, _ = hostBusySeconds()
	m.started = time.Now()
	ctx, m.cancel = context.WithCancel(ctx)
	go func() {
		defer close(m.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *procMonitor) sample() {
	rss, err := memStatus(m.pid, "VmRSS")
	if err != nil {
		return
	}
	m.mu.Lock()
	m.peak = max(m.peak, rss)
	m.mu.Unlock()
}

// stop ends sampling and returns the phase's figures.
func (m *procMonitor) stop() ProcSample {
	m.cancel()
	<-m.done
	m.sample()
	end, _ := cpuSeconds(m.pid)
	self, _ := cpuSeconds(os.Getpid())
	host, _ := hostBusySeconds()
	var db float64
	if m.dbComm != "" {
		db = max(0, commCPUSeconds(m.dbComm)-m.dbStart)
	}
	capacity := time.Since(m.started).Seconds() * float64(runtime.NumCPU())
	hwm, _ := memStatus(m.pid, "VmHWM")
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := ProcSample{CPUSeconds: end - m.cpuStart, PeakRSS: m.peak, HWM: hwm, LoaderCPUSeconds: self - m.selfStart, DBCPUSeconds: db}
	if capacity > 0 {
		other := (host - m.hostStart) - ps.CPUSeconds - ps.LoaderCPUSeconds - ps.DBCPUSeconds
		ps.BackgroundShare = min(1, max(0, other/capacity))
	}
	return ps
}
