package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"time"
)

// captureProfile asks Plinth's net/http/pprof endpoint (enabled with
// PLINTH_PPROF=1) for a CPU profile of the next d and writes it to path. The
// returned channel yields the outcome once the profile is saved.
func captureProfile(ctx context.Context, base string, d time.Duration, path string) <-chan error {
	done := make(chan error, 1)
	secs := max(1, int(math.Ceil(d.Seconds())))
	go func() {
		done <- func() error {
			ctx, cancel := context.WithTimeout(ctx, time.Duration(secs+30)*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
				return fmt.Errorf("GET /debug/pprof/profile: status %d: %s", resp.StatusCode, msg)
			}
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}()
	}()
	return done
}
