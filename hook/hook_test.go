package hook

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestHookOrderPriorityUnbind(t *testing.T) {
	t.Parallel()
	var h Hook[*[]string]
	add := func(name string, priority int) string {
		return h.Bind(Handler[*[]string]{Priority: priority, Func: func(got *[]string) error {
			*got = append(*got, name)
			return nil
		}})
	}
	add("a", 0)
	b := add("b", -5)
	add("c", 0)
	add("d", 10)
	add("e", -5)
	var got []string
	if err := h.Trigger(&got); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b", "e", "a", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v (priority, then binding order)", got, want)
	}
	h.Unbind(b)
	got = nil
	h.Trigger(&got)
	if want := []string{"e", "a", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("after unbind %v, want %v", got, want)
	}
	// Rebinding an id replaces the handler.
	h.Bind(Handler[*[]string]{ID: b, Priority: 100, Func: func(got *[]string) error { *got = append(*got, "b2"); return nil }})
	got = nil
	h.Trigger(&got)
	if want := []string{"e", "a", "c", "d", "b2"}; !slices.Equal(got, want) {
		t.Fatalf("after rebind %v, want %v", got, want)
	}
}

func TestHookErrorStops(t *testing.T) {
	t.Parallel()
	var h Hook[int]
	stop := errors.New("stop")
	ran := 0
	h.BindFunc(func(int) error { ran++; return stop })
	h.BindFunc(func(int) error { ran++; return nil })
	if err := h.Trigger(1); !errors.Is(err, stop) || ran != 1 {
		t.Fatalf("err %v after %d handlers, want stop after 1", err, ran)
	}
}

func TestHookConcurrent(t *testing.T) {
	t.Parallel()
	var h Hook[int]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				id := h.BindFunc(func(int) error { return nil })
				h.Trigger(0)
				h.Unbind(id)
			}
		})
	}
	wg.Wait()
	if h.Len() != 0 {
		t.Fatalf("%d handlers left", h.Len())
	}
}
