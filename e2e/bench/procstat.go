package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// 100 per second on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// procTimes are the CPU fields of one /proc/<pid>/stat line, in clock
// ticks: the process's own user and system time, and those of its
// children that have exited and been waited for.
type procTimes struct {
	PPID                         int
	UTime, STime, CUTime, CSTime int64
}

// parseStat reads the fields of a /proc/<pid>/stat line. The command
// name (field 2) is in parentheses and may hold spaces and parentheses,
// so the fields are counted from the last ')'.
func parseStat(line string) (procTimes, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procTimes{}, fmt.Errorf("parse stat %q: no command name", line)
	}
	// After ") ": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	f := strings.Fields(line[i+1:])
	if len(f) < 15 {
		return procTimes{}, fmt.Errorf("parse stat %q: %d fields after the name, want at least 15", line, len(f))
	}
	var t procTimes
	var err error
	num := func(k int) int64 {
		if err != nil {
			return 0
		}
		var n int64
		n, err = strconv.ParseInt(f[k], 10, 64)
		return n
	}
	t.PPID = int(num(1))
	t.UTime, t.STime, t.CUTime, t.CSTime = num(11), num(12), num(13), num(14)
	if err != nil {
		return procTimes{}, fmt.Errorf("parse stat %q: %w", line, err)
	}
	return t, nil
}

func readStat(pid int) (procTimes, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procTimes{}, err
	}
	return parseStat(string(b))
}

// cpuTimes is CPU time spent in user and in kernel (system) mode.
type cpuTimes struct {
	User, System time.Duration
}

// Total returns user plus system time.
func (c cpuTimes) Total() time.Duration { return c.User + c.System }

func (c cpuTimes) sub(d cpuTimes) cpuTimes { return cpuTimes{c.User - d.User, c.System - d.System} }

// CPUTime returns the CPU time (user plus system) pid has used. With
// children, it adds that of every live child process and every child that
// has exited (a PostgreSQL postmaster's backends, which come and go);
// without, only the process's own threads count.
func CPUTime(pid int, children bool) (time.Duration, error) {
	c, err := processCPU(pid, children)
	return c.Total(), err
}

// processCPU is CPUTime split into user and system time.
func processCPU(pid int, children bool) (cpuTimes, error) {
	return treeCPU(pid, children, readStat, childPIDs)
}

// treeReadAttempts bounds how often treeCPU reads a process tree again
// because a child was reaped while it read.
const treeReadAttempts = 5

// treeCPU adds up the CPU of pid, read with stat, and with children that
// of its children (found by kids) and of those it has reaped. A child
// that exits and is reaped between the reading of the parent and that of
// the children would count nowhere (not yet in the parent's reaped
// times, no longer in the process table), so the parent is read again
// after the children: when its reaped times moved, the tree is read once
// more, up to treeReadAttempts times (the last reading counts then).
func treeCPU(pid int, children bool, stat func(int) (procTimes, error), kids func(int) []int) (cpuTimes, error) {
	t, err := stat(pid)
	if err != nil {
		return cpuTimes{}, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	user, sys := t.UTime, t.STime
	if children {
		for range treeReadAttempts {
			user, sys = t.UTime+t.CUTime, t.STime+t.CSTime
			for _, child := range kids(pid) {
				if c, err := stat(child); err == nil { // a child may exit meanwhile
					user, sys = user+c.UTime+c.CUTime, sys+c.STime+c.CSTime
				}
			}
			again, err := stat(pid)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("cpu time of %d: %w", pid, err)
			}
			if again.CUTime == t.CUTime && again.CSTime == t.CSTime {
				break
			}
			t = again
		}
	}
	return cpuTimes{User: time.Duration(user) * clockTick, System: time.Duration(sys) * clockTick}, nil
}

// machineTimes are the machine's CPU times, summed over every CPU, from
// the first line of /proc/stat.
type machineTimes struct {
	User, System, Idle, IOWait, Other time.Duration
}

// parseMachineStat reads the "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal (guest time is already in user).
func parseMachineStat(text string) (machineTimes, error) {
	line, _, _ := strings.Cut(text, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineTimes{}, fmt.Errorf("parse /proc/stat: first line %q", line)
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return machineTimes{}, fmt.Errorf("parse /proc/stat: %w", err)
		}
		v[i] = n
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * clockTick }
	return machineTimes{User: tick(v[0] + v[1]), System: tick(v[2]), Idle: tick(v[3]), IOWait: tick(v[4]),
		Other: tick(v[5] + v[6] + v[7])}, nil
}

func readMachine() (machineTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTimes{}, err
	}
	return parseMachineStat(string(b))
}

// MachineCPU is how the machine's CPUs spent an interval, in percent of
// all their time: user (with nice), system, idle, waiting for I/O, and
// interrupts and steal.
type MachineCPU struct {
	UserPct   float64 `json:"user_pct"`
	SystemPct float64 `json:"system_pct"`
	IdlePct   float64 `json:"idle_pct"`
	IOWaitPct float64 `json:"iowait_pct"`
	OtherPct  float64 `json:"irq_steal_pct"`
}

func machineShare(before, after machineTimes) MachineCPU {
	d := machineTimes{after.User - before.User, after.System - before.System, after.Idle - before.Idle,
		after.IOWait - before.IOWait, after.Other - before.Other}
	total := float64(d.User + d.System + d.Idle + d.IOWait + d.Other)
	if total <= 0 {
		return MachineCPU{}
	}
	pct := func(x time.Duration) float64 { return 100 * float64(x) / total }
	return MachineCPU{UserPct: pct(d.User), SystemPct: pct(d.System), IdlePct: pct(d.Idle),
		IOWaitPct: pct(d.IOWait), OtherPct: pct(d.Other)}
}

// childPIDs returns the processes whose parent is pid, by walking /proc.
func childPIDs(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		p, err := strconv.Atoi(filepath.Base(d))
		if err != nil || p == pid {
			continue
		}
		if t, err := readStat(p); err == nil && t.PPID == pid {
			out = append(out, p)
		}
	}
	return out
}

// parseKB returns the value of the "key:  N kB" line of a /proc status
// or smaps_rollup text, in bytes.
func parseKB(text []byte, key string) (int64, error) {
	for line := range bytes.Lines(text) {
		rest, ok := bytes.CutPrefix(line, []byte(key+":"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse %s %q", key, strings.TrimSpace(string(line)))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line (a zombie or kernel thread?)", key)
}

// RSS returns the resident set size of pid in bytes (VmRSS).
func RSS(pid int) (int64, error) {
	return procKB(pid, "status", "VmRSS")
}

// PSS returns the proportional set size of pid in bytes (smaps_rollup):
// each shared page counts divided by the processes sharing it, so the
// PSS of a process tree adds up (PostgreSQL's shared buffers once).
func PSS(pid int) (int64, error) {
	return procKB(pid, "smaps_rollup", "Pss")
}

func procKB(pid int, file, key string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		return 0, fmt.Errorf("%s of %d: %w", key, pid, err)
	}
	n, err := parseKB(b, key)
	if err != nil {
		return 0, fmt.Errorf("%s of %d: %w", key, pid, err)
	}
	return n, nil
}
