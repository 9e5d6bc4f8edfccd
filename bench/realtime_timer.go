package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The creates that trigger realtime events are sent and timed by a helper
// process (this program re-executed with createTimerEnv set), not by the
// harness: the harness also runs the thousands of subscribers, and when an
// event wakes them all, a response read in the same process waits behind
// them on the Go scheduler. In a process of its own the create's latency
// is the server's, plus the fair share of CPU the kernel gives it.

// createTimerEnv, when set to a records URL, makes this program the create
// timer instead of the harness.
const createTimerEnv = "PLINTH_BENCH_CREATE_TIMER"

// runCreateTimer is the helper's main loop: for each line "<seq>" on in it
// creates the record {"title":"rtfan-<seq>","n":<seq>} at url over one
// kept-alive connection and answers "<seq> <sent unix ns> <latency ns>
// <status>" on out. It returns the exit code.
func runCreateTimer(url string, in io.Reader, out io.Writer) int {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	sc := bufio.NewScanner(in)
	w := bufio.NewWriter(out)
	for sc.Scan() {
		seq, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "create timer: bad line:", sc.Text())
			return 2
		}
		body := fmt.Sprintf(`{"title":"%s%d","n":%d}`, eventMarker, seq, seq)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sent := time.Now()
		status := 0
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		lat := time.Since(sent)
		fmt.Fprintf(w, "%d %d %d %d\n", seq, sent.UnixNano(), lat.Nanoseconds(), status)
		if err := w.Flush(); err != nil {
			return 1
		}
	}
	return 0
}

// createTimer drives a helper process.
type createTimer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startCreateTimer starts the helper for the records URL.
func startCreateTimer(url string) (*createTimer, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), createTimerEnv+"="+url)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &createTimer{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

// create has the helper create event seq; it returns when the request
// was sent (wall clock, comparable across processes) and its latency.
func (ct *createTimer) create(seq int) (sent time.Time, lat time.Duration, err error) {
	if _, err := fmt.Fprintf(ct.in, "%d\n", seq); err != nil {
		return sent, 0, err
	}
	if !ct.out.Scan() {
		return sent, 0, fmt.Errorf("create timer ended: %v", ct.out.Err())
	}
	var gotSeq, status int
	var sentNS, latNS int64
	if _, err := fmt.Sscanf(ct.out.Text(), "%d %d %d %d", &gotSeq, &sentNS, &latNS, &status); err != nil || gotSeq != seq {
		return sent, 0, fmt.Errorf("create timer answered %q", ct.out.Text())
	}
	sent, lat = time.Unix(0, sentNS), time.Duration(latNS)
	if status != http.StatusOK {
		err = fmt.Errorf("create: status %d", status)
	}
	return sent, lat, err
}

// close ends the helper.
func (ct *createTimer) close() {
	ct.in.Close()
	done := make(chan struct{})
	go func() { ct.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		ct.cmd.Process.Kill()
		<-done
	}
}
