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

// CPUTime returns the CPU time (user plus system) pid has used. With
// children, it adds that of every live child process and every child that
// has exited (a PostgreSQL postmaster's backends, which come and go);
// without, only the process's own threads count.
func CPUTime(pid int, children bool) (time.Duration, error) {
	t, err := readStat(pid)
	if err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	ticks := t.UTime + t.STime
	if children {
		ticks += t.CUTime + t.CSTime
		for _, child := range childPIDs(pid) {
			if c, err := readStat(child); err == nil { // a child may exit meanwhile
				ticks += c.UTime + c.STime + c.CUTime + c.CSTime
			}
		}
	}
	return time.Duration(ticks) * clockTick, nil
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
