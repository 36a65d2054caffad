package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// cpuSnap is the process's CPU time and the machine's busy time at a moment.
type cpuSnap struct {
	at          time.Time
	self        time.Duration // user+system CPU of this process
	busy, total uint64        // machine-wide jiffies from /proc/stat
}

func snapCPU() cpuSnap {
	s := cpuSnap{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i >= 8 { // guest time is already counted in user
				break
			}
			s.total += n
			if i != 3 && i != 4 { // idle, iowait
				s.busy += n
			}
		}
	}
	return s
}

// cpuUse is the CPU spent between two snapshots, in cores.
type cpuUse struct {
	wall    time.Duration
	selfCPU time.Duration
	self    float64 // cores used by this process
	machine float64 // cores busy on the machine
}

// other is what the rest of the machine used: a competing build shows here.
func (u cpuUse) other() float64 { return max(u.machine-u.self, 0) }

func (a cpuSnap) until(b cpuSnap) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), selfCPU: b.self - a.self}
	if u.wall > 0 {
		u.self = float64(u.selfCPU) / float64(u.wall)
	}
	if b.total > a.total {
		u.machine = float64(b.busy-a.busy) / float64(b.total-a.total) * float64(runtime.NumCPU())
	}
	return u
}

func (u cpuUse) String() string {
	return fmt.Sprintf("%.2f cores (other processes %.2f)", u.self, u.other())
}

// procStatus reads a "kB" field of /proc/self/status (VmHWM, VmRSS) in bytes.
func procStatus(field string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && k == field {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

// heapWatch samples the Go heap so the report can give its peak.
type heapWatch struct {
	peakInuse atomic.Uint64
	stop      chan struct{}
}

func watchHeap() *heapWatch {
	h := &heapWatch{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			h.sample()
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapWatch) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	for {
		old := h.peakInuse.Load()
		if m.HeapInuse <= old || h.peakInuse.CompareAndSwap(old, m.HeapInuse) {
			return
		}
	}
}

func mib(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// memoryLine is the process's memory: peak RSS (VmHWM), current RSS, the Go
// heap now and at its sampled peak.
func memoryLine(h *heapWatch) string {
	h.sample()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("peak RSS (VmHWM) %s, RSS now %s, Go heap in use now %s (peak sampled %s), heap sys %s, GC cycles %d",
		mib(procStatus("VmHWM")), mib(procStatus("VmRSS")), mib(m.HeapInuse), mib(h.peakInuse.Load()), mib(m.HeapSys), m.NumGC)
}

// machineLine describes the machine the way BENCHMARKS.md records it.
func machineLine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	var memTotal string
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				memTotal = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s), %s RAM, %s %s/%s, load average %s",
		runtime.NumCPU(), model, memTotal, runtime.Version(), runtime.GOOS, runtime.GOARCH, loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
