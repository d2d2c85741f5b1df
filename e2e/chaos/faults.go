package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/orderbus/orderbus/e2e/launcher"
)

// Fault kinds, as -faults names them.
const (
	// KillService is SIGKILL of one service, restarted at once (or after
	// a second or two) on the same port and database.
	KillService = "kill-service"
	// KillNATS is SIGKILL of nats-server, started again on the same store
	// and port after a short outage.
	KillNATS = "kill-nats"
	// CrashPostgres is an immediate shutdown of PostgreSQL, started again
	// on the same data folder and port (crash recovery).
	CrashPostgres = "crash-postgres"
	// MailOutage stops the mail server for longer than a consumer's old
	// retry budget, then starts it on the same SMTP port (keeping mail).
	MailOutage = "mail-outage"
	// NetLatency adds latency through the TCP proxy between a service and
	// NATS or PostgreSQL for a few seconds.
	NetLatency = "net-latency"
	// NetCut closes every connection through such a proxy and refuses new
	// ones for a few seconds.
	NetCut = "net-cut"
	// PauseService stops a consumer service (inventory or sms) with SIGSTOP for longer than
	// its consumers' AckWait, then resumes it with SIGCONT.
	PauseService = "pause-service"
)

// Kinds returns every fault kind.
func Kinds() []string {
	return []string{KillService, KillNATS, CrashPostgres, MailOutage, NetLatency, NetCut, PauseService}
}

// ParseKinds parses a comma-separated list of fault kinds; "" and "all"
// mean every kind, "none" none.
func ParseKinds(s string) ([]string, error) {
	switch strings.TrimSpace(s) {
	case "", "all":
		return Kinds(), nil
	case "none":
		return nil, nil
	}
	var out []string
	for k := range strings.SplitSeq(s, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(Kinds(), k) {
			return nil, fmt.Errorf("unknown fault kind %q (known: %s)", k, strings.Join(Kinds(), ", "))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Fault is one planned fault: what, on which target, when (from the
// start of the load) and for how long the target stays down, slowed or
// paused.
type Fault struct {
	Kind   string        `json:"kind"`
	Target string        `json:"target"`
	At     time.Duration `json:"at_ns"`
	For    time.Duration `json:"for_ns"`
}

// Executed is a fault as it happened.
type Executed struct {
	Fault
	// Began is when it began, from the start of the load; Took how long
	// until the target was back (ready, restored or resumed).
	Began time.Duration `json:"began_ns"`
	Took  time.Duration `json:"took_ns"`
	// Starts counts the start attempts a restart needed.
	Starts int    `json:"starts,omitempty"`
	Error  string `json:"error,omitempty"`
}

// schedule plans the faults of kinds over window: counts[kind] of each
// (KillService: of each service), spread evenly with seeded jitter. Kills
// and crashes share one lane and never overlap; the mail outage, the
// network faults and the pauses have a lane each, so they overlap the
// kills and one another.
func schedule(rng *rand.Rand, window time.Duration, kinds []string, counts map[string]int,
	services []string, routes []launcher.Route, d durations) [][]Fault {
	has := func(k string) bool { return slices.Contains(kinds, k) }
	var crashes []Fault
	if has(KillService) {
		for _, svc := range services {
			for range counts[KillService] {
				crashes = append(crashes, Fault{Kind: KillService, Target: svc, For: jitter(rng, d.restartDelay)})
			}
		}
	}
	if has(KillNATS) {
		for range counts[KillNATS] {
			crashes = append(crashes, Fault{Kind: KillNATS, Target: "nats-server", For: d.infraDown + jitter(rng, d.infraDown)})
		}
	}
	if has(CrashPostgres) {
		for range counts[CrashPostgres] {
			crashes = append(crashes, Fault{Kind: CrashPostgres, Target: "postgres", For: d.infraDown + jitter(rng, d.infraDown)})
		}
	}
	rng.Shuffle(len(crashes), func(i, j int) { crashes[i], crashes[j] = crashes[j], crashes[i] })
	spread(rng, crashes, 0, window)

	var mail []Fault
	if has(MailOutage) {
		for range counts[MailOutage] {
			mail = append(mail, Fault{Kind: MailOutage, Target: "mailpit", For: d.mailDown})
		}
		spread(rng, mail, 0, max(0, window-d.mailDown*time.Duration(len(mail))))
	}

	var network []Fault
	for _, kind := range []string{NetLatency, NetCut} {
		if !has(kind) || len(routes) == 0 {
			continue
		}
		for range counts[kind] {
			r := routes[rng.IntN(len(routes))]
			network = append(network, Fault{Kind: kind, Target: r.String(), For: d.netFault + jitter(rng, d.netFault)})
		}
	}
	rng.Shuffle(len(network), func(i, j int) { network[i], network[j] = network[j], network[i] })
	spread(rng, network, 0, max(0, window-2*d.netFault*time.Duration(len(network))))

	var pauses []Fault
	if has(PauseService) {
		// Not email: paused, it would sleep through the mail outage that
		// must test its retries.
		consumers := []string{"inventory", "sms"}
		for range counts[PauseService] {
			pauses = append(pauses, Fault{Kind: PauseService, Target: consumers[rng.IntN(len(consumers))], For: d.pause})
		}
		spread(rng, pauses, 0, max(0, window-d.pause*time.Duration(len(pauses))))
	}
	return [][]Fault{crashes, mail, network, pauses}
}

// spread gives faults start times evenly over [from, from+window), each
// moved by up to a quarter of its slot.
func spread(rng *rand.Rand, faults []Fault, from, window time.Duration) {
	if len(faults) == 0 {
		return
	}
	slot := window / time.Duration(len(faults))
	for i := range faults {
		at := from + slot*time.Duration(i) + slot/2
		if q := slot / 4; q > 0 {
			at += time.Duration(rng.Int64N(int64(2*q))) - q
		}
		faults[i].At = at
	}
}

// jitter returns a random duration in [0, d).
func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d)))
}

// durations are the lengths of the faults.
type durations struct {
	restartDelay time.Duration // a killed service stays down up to this long
	infraDown    time.Duration // NATS or PostgreSQL down for 1-2 times this
	mailDown     time.Duration
	netFault     time.Duration // latency or a cut lasts 1-2 times this
	pause        time.Duration
}
