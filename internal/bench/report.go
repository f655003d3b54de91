package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// StepSummary is one step of the --max search.
type StepSummary struct {
	Rate         int     `json:"rate"`
	Pass         bool    `json:"pass"`
	Why          string  `json:"why,omitempty"`
	SentRate     float64 `json:"sent_rate"`
	Throughput   float64 `json:"throughput"`
	SuccessRatio float64 `json:"success_ratio"`
	P99          float64 `json:"p99_ms"`
}

// MaxResult is --max's search: each step, and the highest rate that passed.
type MaxResult struct {
	Criteria string        `json:"criteria"`
	Step     string        `json:"step"`
	MaxRate  int           `json:"max_rate"` // 0: no rate passed
	Steps    []StepSummary `json:"steps"`
}

// BaselineReport is the bare net/http handler's run, measured as the API's.
type BaselineReport struct {
	BodyBytes int           `json:"body_bytes"`
	Result    *AttackResult `json:"result"`
	Max       *MaxResult    `json:"max,omitempty"`
	// Ratio is the API's throughput over the baseline's (all kinds together).
	Ratio float64 `json:"ratio"`
}

// RegisterInfo is the size of the register an in-process run looked up in.
type RegisterInfo struct {
	Where          string `json:"where"`
	Persons        int64  `json:"persons"`
	Organisations  int64  `json:"organisations"`
	Arbeidsforhold int64  `json:"arbeidsforhold"`
	AuditRecords   int64  `json:"audit_records_before"` // records in the lookup log before the run
}

// SampleInfo is what the workload draws its requests from.
type SampleInfo struct {
	Persons     int `json:"persons"`
	UUIDs       int `json:"uuids"`
	Employers   int `json:"employers"`
	SearchPages int `json:"search_pages"`
}

// ServerInfo is what the server counted during the run (its /metrics, and the log where the store can count it).
type ServerInfo struct {
	APIRequests int64 `json:"api_requests"`
	// LoggedEstimate is API requests answered after authentication: each one has a lookup record.
	LoggedEstimate int64 `json:"audit_records_estimated"`
	// AuditRecords is the growth of the lookup log (store.LogSize) over the run, in-process only.
	AuditRecords *int64 `json:"audit_records_written,omitempty"`
}

// ClusterInfo is a cluster run's nodes (ModeCluster).
type ClusterInfo struct {
	Nodes        int    `json:"nodes"`
	LoadBalancer string `json:"load_balancer"`
	// Leaders are the nodes (from 1) that held the leadership of the
	// single-run jobs (integration, checkpoints, mail) at the end of the run:
	// exactly one when all is well.
	Leaders []int `json:"leaders"`
}

// MachineInfo is the machine the run shared between server and load generator.
type MachineInfo struct {
	GOOS        string `json:"goos"`
	GOARCH      string `json:"goarch"`
	CPUs        int    `json:"cpus"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	GoVersion   string `json:"go_version"`
	LoadAverage string `json:"load_average,omitempty"` // /proc/loadavg at the start
}

// Report is the whole report, printed as a table and written as JSON.
type Report struct {
	Started   time.Time       `json:"started"`
	Version   string          `json:"version"`
	Mode      string          `json:"mode"` // in-process or target
	Target    string          `json:"target"`
	Machine   MachineInfo     `json:"machine"`
	Register  *RegisterInfo   `json:"register,omitempty"`
	Consumers int             `json:"consumers"`
	Mix       map[string]int  `json:"mix"`
	Warmup    string          `json:"warmup,omitempty"` // uncounted load before the run
	Sample    SampleInfo      `json:"sample"`
	Result    *AttackResult   `json:"result"`
	Max       *MaxResult      `json:"max,omitempty"`
	Server    *ServerInfo     `json:"server,omitempty"`
	Cluster   *ClusterInfo    `json:"cluster,omitempty"`
	Baseline  *BaselineReport `json:"baseline,omitempty"`
	// The checks of a cluster run: disruptions, every answer's record, the
	// log's verification after the run, one consumer's rate limit.
	Disruptions []*DisruptionReport `json:"disruptions,omitempty"`
	Records     *RecordCheck        `json:"records,omitempty"`
	AuditVerify string              `json:"audit_verify,omitempty"`
	RateCheck   *RateCheckReport    `json:"rate_check,omitempty"`
	LoadAtEnd   string              `json:"load_average_end,omitempty"`
	// DiscardLog marks a run of a binary built with -tags benchdiscard: the
	// API's lookup log kept nothing (the log's cost is the difference).
	DiscardLog  bool   `json:"discard_log,omitempty"`
	Description string `json:"description"`
}

// NewReport starts the report of a run in mode (ModeInProcess or
// ModeTarget) against target with the given number of consumers.
func (b *Runner) NewReport(mode, target string, consumers int) *Report {
	mix := map[string]int{}
	for k, v := range b.Mix {
		mix[k] = v
	}
	return &Report{Started: time.Now().UTC().Truncate(time.Second), Version: b.Version, Mode: mode, Target: target,
		Machine: MachineInfo{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
			GoVersion: runtime.Version(), LoadAverage: loadAverage()},
		Consumers: consumers, Mix: mix, Warmup: b.Warmup.String(),
		Description: "latencies in ms from the load generator (request sent to answer read); throughput is successful requests per second",
	}
}

// Print writes the report to w as a table, noting the load average at its end.
func (b *Runner) Print(w io.Writer, rep *Report) {
	rep.LoadAtEnd = loadAverage()
	r := rep.Result
	fmt.Fprintf(w, "\ndeling bench: %s, %s; %d consumers; mix %s; %d connections\n", rep.Mode, rep.Target, rep.Consumers, b.Mix, r.Connections)
	if rep.Register != nil {
		fmt.Fprintf(w, "register: %s persons, %s arbeidsforhold, %s records in the lookup log before the run (%s)\n", thousands(rep.Register.Persons),
			thousands(rep.Register.Arbeidsforhold), thousands(rep.Register.AuditRecords), rep.Register.Where)
	}
	if rep.Max != nil {
		fmt.Fprintf(w, "--max: %d steps of %s; pass = %s\n", len(rep.Max.Steps), rep.Max.Step, rep.Max.Criteria)
		for _, s := range rep.Max.Steps {
			fmt.Fprintf(w, "  %8s/s  %8.0f ok/s  p99 %7.2f ms  success %7.3f%%  %s\n", thousands(int64(s.Rate)), s.Throughput, s.P99, 100*s.SuccessRatio, passText(s))
		}
		fmt.Fprintf(w, "highest passing rate: %s/s (its numbers below)\n", thousands(int64(rep.Max.MaxRate)))
	}
	fmt.Fprintf(w, "rate %s/s for %s (sent %.0f/s, %.1f s from first request to last answer)\n\n", thousands(int64(r.Rate)), r.Duration, r.SentRate, r.ElapsedSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\trequests\tok/s\tsuccess\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\t")
	row := func(label string, s *KindStats) {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.2f%%\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", label, thousands(int64(s.Requests)), s.Throughput, 100*s.SuccessRatio,
			s.Latency.P50, s.Latency.P95, s.Latency.P99, s.Latency.Max, errorText(s))
	}
	for _, s := range r.Kinds {
		row(s.Kind, s)
	}
	row("total", r.Total)
	if bl := rep.Baseline; bl != nil && bl.Result != nil {
		row(KindBaseline, bl.Result.Total)
	}
	tw.Flush()
	limit := float64(b.MaxP99) / float64(time.Millisecond)
	if over, worst := worstSeconds(r.Timeline, limit); len(r.Timeline) > 0 {
		fmt.Fprintf(w, "seconds with p99 over %s: %d of %d; worst: second %d, p99 %.2f ms, max %.2f ms\n",
			b.MaxP99, over, len(r.Timeline), worst.Second, worst.P99, worst.Max)
	}
	for _, s := range append(r.Kinds, r.Total) {
		for msg, n := range s.Errors {
			fmt.Fprintf(w, "  %s: %d× %s\n", s.Kind, n, msg)
		}
	}
	if r.CPUPerOK > 0 && rep.Mode == ModeInProcess {
		fmt.Fprintf(w, "CPU of the bench process: %.0f µs per answer (server, load generator and jobs together; %d CPUs would give at most %s answers/s at this cost)\n",
			r.CPUPerOK, rep.Machine.CPUs, thousands(int64(float64(rep.Machine.CPUs)*1e6/r.CPUPerOK)))
	}
	if s := rep.Server; s != nil {
		fmt.Fprintf(w, "\nserver: %s API requests answered; %s lookup records written (estimated from /metrics: answers after authentication)",
			thousands(s.APIRequests), thousands(s.LoggedEstimate))
		if s.AuditRecords != nil {
			fmt.Fprintf(w, "; the lookup log grew by %s", thousands(*s.AuditRecords))
		}
		if s.AuditRecords != nil && rep.DiscardLog {
			fmt.Fprint(w, " (DISCARD LOG: a -tags benchdiscard build, lookups were not logged)")
		} else if s.AuditRecords != nil {
			verdict := "records written = answers given"
			if *s.AuditRecords != s.LoggedEstimate {
				// Counted at the edges of the measured window: a request the
				// load generator gave up on may still be answered by the server.
				verdict = fmt.Sprintf("records ≠ answers: %s answers after authentication, %s records; requests still in flight when a count was taken (does the run have timeouts?) or a record missing",
					thousands(s.LoggedEstimate), thousands(*s.AuditRecords))
			}
			fmt.Fprintf(w, " (%s)", verdict)
		}
		fmt.Fprintln(w)
	}
	if c := rep.Cluster; c != nil {
		fmt.Fprintf(w, "cluster: %d nodes on one PostgreSQL behind a %s; leading the single-run jobs at the end: node %v\n", c.Nodes, c.LoadBalancer, c.Leaders)
	}
	printChecks(w, rep)
	if bl := rep.Baseline; bl != nil && bl.Result != nil {
		fmt.Fprintf(w, "baseline: bare net/http handler, fixed %s-byte JSON answer, rate %s/s: %.1f ok/s, p99 %.2f ms\n",
			thousands(int64(bl.BodyBytes)), thousands(int64(bl.Result.Rate)), bl.Result.Total.Throughput, bl.Result.Total.Latency.P99)
		if bl.Result.CPUPerOK > 0 && r.CPUPerOK > 0 && rep.Mode == ModeInProcess {
			fmt.Fprintf(w, "baseline CPU: %.0f µs per answer; API / baseline by CPU per answer: %.2f\n", bl.Result.CPUPerOK, bl.Result.CPUPerOK/r.CPUPerOK)
		}
		if bl.Max != nil {
			fmt.Fprintf(w, "baseline --max: highest passing rate %s/s\n", thousands(int64(bl.Max.MaxRate)))
		}
		fmt.Fprintf(w, "ratio API / baseline throughput: %.2f", bl.Ratio)
		if rep.Max == nil {
			fmt.Fprint(w, " (at a fixed rate both may just keep the rate: use --max for capacity)")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "load average: %s at start, %s at end (%d CPUs; server and load generator share them)\n", rep.Machine.LoadAverage, rep.LoadAtEnd, rep.Machine.CPUs)
}

func passText(s StepSummary) string {
	if s.Pass {
		return "pass"
	}
	return "fail (" + s.Why + ")"
}

// errorText lists the non-2xx status codes of a kind: "503×4 0×1".
func errorText(s *KindStats) string {
	var parts []string
	for code, n := range s.StatusCodes {
		if !strings.HasPrefix(code, "2") {
			parts = append(parts, fmt.Sprintf("%s×%d", code, n))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
