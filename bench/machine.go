package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// machine describes where and how the report was made; every figure and
// table names it.
type machine struct {
	CPU       string // brand name, family/model
	Cores     string // physical/logical cores
	Features  string // SIMD features that matter for the kernels
	MemGiB    float64
	GoVersion string
	OSArch    string
	Kernel    string // the default Sgemm path of this process
	Command   string
	Commit    string
	Start     time.Time
}

func detectMachine(args []string) machine {
	m := machine{
		GoVersion: runtime.Version(),
		OSArch:    runtime.GOOS + "/" + runtime.GOARCH,
		Kernel:    tensor.KernelPath(),
		Command:   "go run ./bench " + strings.Join(args, " "),
		Start:     time.Now().UTC(),
	}
	brand := strings.TrimSpace(cpuid.CPU.BrandName)
	if brand == "" {
		brand = procCPUInfo("model name")
	}
	if brand == "" {
		brand = "unknown CPU"
	}
	m.CPU = fmt.Sprintf("%s (family %#x model %#x)", brand, cpuid.CPU.Family, cpuid.CPU.Model)
	m.Cores = fmt.Sprintf("%d cores, %d logical CPUs, GOMAXPROCS %d", cpuid.CPU.PhysicalCores, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	var feats []string
	for _, f := range []struct {
		name string
		id   cpuid.FeatureID
	}{{"AVX2", cpuid.AVX2}, {"FMA3", cpuid.FMA3}, {"AVX-512F", cpuid.AVX512F}, {"AVX-512BW", cpuid.AVX512BW}, {"AVX-512VL", cpuid.AVX512VL}} {
		if cpuid.CPU.Supports(f.id) {
			feats = append(feats, f.name)
		}
	}
	m.Features = strings.Join(feats, ", ")
	if kb := procMemKiB(); kb > 0 {
		m.MemGiB = float64(kb) / (1 << 20)
	}
	return m
}

// caption is the one-line description that every plot carries.
func (m machine) caption(kernel string) string {
	return fmt.Sprintf("%s, %s; %s; kernel %s; %s", m.CPU, m.Cores, m.GoVersion, kernel, m.Command)
}

// procCPUInfo returns the first value of key in /proc/cpuinfo, or "".
func procCPUInfo(key string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// procMemKiB returns MemTotal from /proc/meminfo in KiB, or 0.
func procMemKiB() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb
		}
	}
	return 0
}

// defaultProcs is the GOMAXPROCS the run uses outside the sections that
// set it.
func defaultProcs() int { return runtime.GOMAXPROCS(0) }

// loadAverage returns the 1-minute load average from /proc/loadavg, or "?".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
