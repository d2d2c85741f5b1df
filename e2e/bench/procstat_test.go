package bench

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		line    string
		want    procTimes
		wantErr bool
	}{
		{
			name: "plain name",
			line: "1234 (postgres) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 30 12 20 0 1 0 100 1000 200",
			want: procTimes{PPID: 1, UTime: 250, STime: 75, CUTime: 30, CSTime: 12},
		},
		{
			name: "name with spaces and parentheses",
			line: "42 (postgres: bench (x) idle) R 7 42 42 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 100 1000 200",
			want: procTimes{PPID: 7, UTime: 1, STime: 2, CUTime: 3, CSTime: 4},
		},
		{name: "no name", line: "42 R 7", wantErr: true},
		{name: "too short", line: "42 (x) R 7 1 2", wantErr: true},
		{name: "not a number", line: "42 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 2 3 4 20", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.line)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseKB(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tsleep\nVmPeak:\t    8000 kB\nVmRSS:\t    1536 kB\nThreads:\t1\n")
	if n, err := parseKB(status, "VmRSS"); err != nil || n != 1536*1024 {
		t.Errorf("VmRSS = %d, %v; want %d", n, err, 1536*1024)
	}
	if _, err := parseKB([]byte("Name:\tkthreadd\n"), "VmRSS"); err == nil {
		t.Error("a status without VmRSS: no error")
	}
	if _, err := parseKB([]byte("Pss:  12 MB\n"), "Pss"); err == nil {
		t.Error("a value not in kB: no error")
	}
}

// This process has a resident set and CPU time, and a child it starts is
// found by its parent pid and counted with it.
func TestProcessAccounting(t *testing.T) {
	t.Parallel()
	if n, err := RSS(os.Getpid()); err != nil || n <= 0 {
		t.Errorf("RSS(self) = %d, %v", n, err)
	}
	if n, err := PSS(os.Getpid()); err != nil || n <= 0 {
		t.Errorf("PSS(self) = %d, %v", n, err)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if kids := childPIDs(os.Getpid()); !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("childPIDs(self) = %v, want it to hold %d", kids, cmd.Process.Pid)
	}
	own, err := CPUTime(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	all, err := CPUTime(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if all < own {
		t.Errorf("CPU with children %v < without %v", all, own)
	}
	if _, err := CPUTime(-1, false); err == nil {
		t.Error("CPUTime of no process: no error")
	}
}

func TestCPUDeltaAndPerOrder(t *testing.T) {
	t.Parallel()
	before := map[string]cpuTimes{"order": {100, 10}, "nats-server": {50, 5}, "gone": {10, 1}}
	after := map[string]cpuTimes{"order": {400, 70}, "nats-server": {50, 5}, "new": {5, 0}}
	d := cpuDelta(before, after)
	if len(d) != 2 || d["order"] != (cpuTimes{300, 60}) || d["nats-server"] != (cpuTimes{}) {
		t.Errorf("cpuDelta = %v, want order {300 60}, nats-server 0 and nothing else", d)
	}
	per := perOrder(d, 3)
	if per["order"] != (cpuTimes{100, 20}) || per["order"].Total() != 120 {
		t.Errorf("perOrder = %v, want order {100 20}", per)
	}
	if len(perOrder(d, 0)) != 0 {
		t.Error("perOrder with no orders is not empty")
	}
}

func TestParseMachineStat(t *testing.T) {
	t.Parallel()
	got, err := parseMachineStat("cpu  100 5 50 800 20 3 2 1 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	tick := func(n int) time.Duration { return time.Duration(n) * clockTick }
	want := machineTimes{User: tick(105), System: tick(50), Idle: tick(800), IOWait: tick(20), Other: tick(6)}
	if got != want {
		t.Errorf("parseMachineStat = %+v, want %+v", got, want)
	}
	share := machineShare(machineTimes{}, want)
	if sum := share.UserPct + share.SystemPct + share.IdlePct + share.IOWaitPct + share.OtherPct; sum < 99.99 || sum > 100.01 {
		t.Errorf("shares add up to %v: %+v", sum, share)
	}
	if _, err := parseMachineStat("intr 1 2 3\n"); err == nil {
		t.Error("no cpu line: no error")
	}
	if _, err := readMachine(); err != nil {
		t.Errorf("readMachine: %v", err)
	}
}

// A child reaped while the tree is read (after its parent, before the
// children) is counted once: treeCPU reads the tree again when the
// parent's reaped times moved. A child alive throughout counts once too.
func TestTreeCPUChildReapedWhileRead(t *testing.T) {
	t.Parallel()
	const parent, child = 1, 2
	parentReads := 0
	stat := func(pid int) (procTimes, error) {
		if pid == child {
			return procTimes{}, os.ErrNotExist // gone by the time it is read
		}
		parentReads++
		if parentReads == 1 { // before the reap
			return procTimes{UTime: 10, STime: 1}, nil
		}
		return procTimes{UTime: 10, STime: 1, CUTime: 300, CSTime: 30}, nil // child reaped
	}
	kids := func(int) []int { return []int{child} }
	got, err := treeCPU(parent, true, stat, kids)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cpuTimes{User: 310 * clockTick, System: 31 * clockTick}); got != want {
		t.Errorf("treeCPU with a child reaped while read = %v, want %v (the child counted once)", got, want)
	}

	alive := func(pid int) (procTimes, error) {
		if pid == child {
			return procTimes{UTime: 50, STime: 5}, nil
		}
		return procTimes{UTime: 10, STime: 1, CUTime: 7}, nil
	}
	got, err = treeCPU(parent, true, alive, kids)
	if err != nil {
		t.Fatal(err)
	}
	if want := (cpuTimes{User: 67 * clockTick, System: 6 * clockTick}); got != want {
		t.Errorf("treeCPU with a live child = %v, want %v", got, want)
	}
	if got, _ := treeCPU(parent, false, alive, kids); got != (cpuTimes{User: 10 * clockTick, System: clockTick}) {
		t.Errorf("treeCPU without children = %v, want the parent's own times", got)
	}
}
