package group_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/orderbus/orderbus/pkg/group"
)

// TestGroupAnswersEachCallWithItsResult holds the first group open until
// every other call waits, so that they must share groups: each call gets
// its own item's result, no group exceeds the size, and the waiting calls
// ran in fewer groups than calls.
func TestGroupAnswersEachCallWithItsResult(t *testing.T) {
	t.Parallel()
	const calls, size = 40, 8
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	waiting := sync.WaitGroup{}
	waiting.Add(calls - 1)
	g := group.New(size, func(items []int) []int {
		mu.Lock()
		first := len(sizes) == 0
		sizes = append(sizes, len(items))
		mu.Unlock()
		if first {
			<-release // the lone first call: the others queue meanwhile
		}
		out := make([]int, len(items))
		for i, n := range items {
			out[i] = n * n
		}
		return out
	})
	results := make([]int, calls)
	var wg sync.WaitGroup
	wg.Go(func() { results[0] = g.Do(0) })
	for i := 1; i < calls; i++ {
		wg.Go(func() {
			waiting.Done()
			results[i] = g.Do(i)
		})
	}
	waiting.Wait()
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != i*i {
			t.Errorf("call %d got %d, want %d", i, r, i*i)
		}
	}
	total := 0
	for _, n := range sizes {
		total += n
		if n > size {
			t.Errorf("a group of %d items, want at most %d", n, size)
		}
	}
	if total != calls {
		t.Errorf("groups held %d items, want %d", total, calls)
	}
	if sizes[0] != 1 {
		t.Errorf("first group held %d items, want the lone first call", sizes[0])
	}
	t.Logf("group sizes %v", sizes)
	if len(sizes) >= calls {
		t.Errorf("%d groups for %d calls: no call shared one", len(sizes), calls)
	}
}

// TestGroupPanicReachesItsCallersOnly makes run panic for a group holding
// the item -1: the call with it panics with run's value, and a later call
// still gets its result (the lead was handed on).
func TestGroupPanicReachesItsCallersOnly(t *testing.T) {
	t.Parallel()
	g := group.New(4, func(items []int) []int {
		for _, n := range items {
			if n < 0 {
				panic("negative")
			}
		}
		return items
	})
	func() {
		defer func() {
			if p := recover(); p != "negative" {
				t.Errorf("panic %v, want run's value", p)
			}
		}()
		g.Do(-1)
		t.Error("Do returned; want it to panic")
	}()
	if got := g.Do(5); got != 5 {
		t.Errorf("after a panic, Do(5) = %d", got)
	}
}

// TestGroupCountMismatchPanics makes run return one result too few: the
// call panics instead of waiting forever.
func TestGroupCountMismatchPanics(t *testing.T) {
	t.Parallel()
	g := group.New(4, func(items []int) []int { return items[1:] })
	defer func() {
		if recover() == nil {
			t.Error("no panic for a short result")
		}
	}()
	g.Do(1)
}

// TestConcurrentGroupsRunAtOnce holds a first group open: with two
// leaders, a second call still runs at once, beside it; a third waits
// until one of them ends.
func TestConcurrentGroupsRunAtOnce(t *testing.T) {
	t.Parallel()
	started := make(chan int, 3)
	release := make(chan struct{})
	g := group.NewConcurrent(4, 2, func(items []int) []int {
		for _, n := range items {
			started <- n
		}
		<-release
		return items
	})
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { g.Do(i) })
	}
	deadline := time.After(10 * time.Second)
	for range 2 {
		select {
		case <-started:
		case <-deadline:
			t.Fatal("two calls did not run at once under two leaders")
		}
	}
	wg.Go(func() { g.Do(2) })
	select {
	case n := <-started:
		t.Errorf("call %d ran while two groups were running", n)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if n := <-started; n != 2 {
		t.Errorf("third run held %d, want 2", n)
	}
}

// TestConcurrentGroupsUnderLoad runs many calls through four leaders, each
// group short: every call returns its own result (a lead handed twice, or
// a call lost between leaders, would hang the test or mix results).
func TestConcurrentGroupsUnderLoad(t *testing.T) {
	t.Parallel()
	g := group.NewConcurrent(3, 4, func(items []int) []int {
		runtime.Gosched() // let leaders finish at once
		out := make([]int, len(items))
		for i, n := range items {
			out[i] = -n
		}
		return out
	})
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := range 200 {
				n := w*1000 + i
				if got := g.Do(n); got != -n {
					t.Errorf("Do(%d) = %d", n, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
