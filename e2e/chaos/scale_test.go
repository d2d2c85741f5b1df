package chaos

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/events"
	"github.com/orderbus/orderbus/pkg/natsauth"
)

// scaleOptions are the short runs of the scale-out tests: no scheduled
// faults, only those of During, then the full check.
func scaleOptions(t *testing.T, orders int, rate float64) Options {
	t.Helper()
	bins, err := launcher.Build(t.Context(), t.TempDir(), launcher.DefaultServices()...)
	if err != nil {
		t.Fatal(err)
	}
	o := ShortOptions()
	o.Orders, o.Rate, o.Clients = orders, rate, 8
	o.Faults, o.Counts = nil, map[string]int{}
	o.Settle = 90 * time.Second
	o.Binaries = bins
	o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return o
}

func runAndReport(t *testing.T, ctx context.Context, o Options) *Result {
	t.Helper()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res.Print(&out)
	t.Logf("\n%s", out.String())
	if !res.OK() {
		t.Errorf("the run failed; process logs:\n%s", res.Logs)
	}
	return res
}

// consumed sums orderbus_consumer_messages_total over every consumer and
// outcome of one instance's /metrics: how many messages it handled.
func consumed(ctx context.Context, base string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "orderbus_consumer_messages_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %w", line, err)
		}
		total += v
	}
	return int(total), sc.Err()
}

// TestTwoInstancesEach runs two instances of every consumer service and
// of the order service on one database and one set of durables; 500
// orders; midway the second instance of each is killed with SIGKILL once
// it has handled messages. The checker then requires exactly one receipt,
// SMS and reservation and the final status of every order, and the
// surviving instances must have done work too: they compete on the
// durable, so each takes part.
func TestTwoInstancesEach(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	o := scaleOptions(t, 500, 40)
	services := []string{"order", "inventory", "email", "sms"}
	o.Instances = map[string]int{}
	for _, s := range services {
		o.Instances[s] = 2
	}
	killedAt, firstDid := map[string]int{}, map[string]int{}
	o.During = func(ctx context.Context, sys *launcher.System) error {
		for _, s := range services {
			victim := launcher.InstanceName(s, 2)
			deadline := time.Now().Add(30 * time.Second)
			for {
				first, err1 := consumed(ctx, sys.ServiceURL(s))
				n, err := consumed(ctx, sys.ServiceURL(victim))
				if err == nil && err1 == nil && n >= 5 && first >= 5 {
					killedAt[victim], firstDid[s] = n, first
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("in 30s %s handled %d messages, %s %d (%v, %v): both should take part",
						s, first, victim, n, err1, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := sys.Process(victim).Kill(); err != nil {
				return fmt.Errorf("kill %s: %w", victim, err)
			}
			t.Logf("killed %s (SIGKILL) after it handled %d messages and %s %d", victim, killedAt[victim], s, firstDid[s])
		}
		return nil
	}
	runAndReport(t, ctx, o)
	for _, s := range services {
		if killedAt[launcher.InstanceName(s, 2)] == 0 {
			t.Errorf("%s was never killed", launcher.InstanceName(s, 2))
		}
		if firstDid[s] == 0 {
			t.Errorf("%s did no work", s)
		}
	}
}

// ordersLeader waits up to 30s until the ORDERS stream has three
// replicas, a leader and every follower current, and returns the
// leader's server name.
func ordersLeader(ctx context.Context, url string) (string, error) {
	nc, err := nats.Connect(url, nats.Name("orderbus-scale-test"),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(natsauth.UserAdmin)))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err = func() error {
			ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			st, err := js.Stream(ictx, events.StreamOrders)
			if err != nil {
				return err
			}
			info := st.CachedInfo()
			if info.Config.Replicas != 3 {
				return fmt.Errorf("ORDERS has %d replicas, want 3", info.Config.Replicas)
			}
			if info.Cluster == nil || info.Cluster.Leader == "" {
				return errors.New("ORDERS has no leader")
			}
			for _, r := range info.Cluster.Replicas {
				if !r.Current || r.Offline {
					return fmt.Errorf("ORDERS replica %s not current", r.Name)
				}
			}
			return nil
		}()
		if err == nil {
			st, _ := js.Stream(ctx, events.StreamOrders)
			return st.CachedInfo().Cluster.Leader, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("ORDERS not healthy within 30s: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNATSClusterLosesANode runs the system on a three-node JetStream
// cluster with three-replica streams; during 1,000 orders the leader of
// ORDERS is killed (SIGKILL) and restarted, then another node. Nothing
// accepted may be lost: the chaos checker's table shows every effect.
func TestNATSClusterLosesANode(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	o := scaleOptions(t, 1000, 50)
	o.NATSCluster = true
	var killed []string
	o.During = func(ctx context.Context, sys *launcher.System) error {
		c := sys.NATSCluster()
		if c == nil {
			return errors.New("no NATS cluster")
		}
		time.Sleep(4 * time.Second) // a fifth of the load placed before the first loss
		leader, err := ordersLeader(ctx, sys.NATSUserURL(natsauth.UserAdmin))
		if err != nil {
			return err
		}
		second := ""
		for _, n := range c.Nodes() {
			if n.Name() != leader && second == "" {
				second = n.Name()
			}
		}
		for _, name := range []string{leader, second} {
			node := c.Node(name)
			if err := node.Kill(); err != nil {
				return fmt.Errorf("kill %s: %w", name, err)
			}
			killed = append(killed, name)
			t.Logf("killed %s (SIGKILL)", name)
			time.Sleep(3 * time.Second)
			if err := node.Start(ctx); err != nil {
				return fmt.Errorf("restart %s: %w", name, err)
			}
			if err := c.WaitMetaLeader(ctx, 30*time.Second); err != nil {
				return err
			}
			now, err := ordersLeader(ctx, sys.NATSUserURL(natsauth.UserAdmin))
			if err != nil {
				return fmt.Errorf("after %s came back: %w", name, err)
			}
			t.Logf("%s back; ORDERS leader now %s, every replica current", name, now)
		}
		return nil
	}
	runAndReport(t, ctx, o)
	if len(killed) != 2 || killed[0] == killed[1] {
		t.Errorf("killed %v, want the ORDERS leader then another node", killed)
	}
}
