package stack_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderbus/orderbus/pkg/stack"
)

// TestNATSClusterSurvivesEachNode starts three servers as one cluster,
// creates an R3 stream, and kills (SIGKILL) and restarts each server in
// turn while publishing: every acknowledged message must be in the stream.
func TestNATSClusterSurvivesEachNode(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := stack.StartNATSCluster(ctx, stack.NATSClusterConfig{SyncAlways: true, Output: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// A JetStream API request sent while the new cluster settles may get
	// no answer at all: ask again, each attempt bounded, until the deadline.
	for {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.CreateOrUpdateStream(actx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3, Storage: jetstream.FileStorage})
		acancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("create the R3 stream: %v", err)
		}
	}
	// Each phase publishes until 20 more messages are acknowledged: with
	// one node down (and a new stream leader to elect when it led) the
	// other two must keep accepting, however long the election takes on a
	// loaded machine, within the phase's deadline.
	acked := map[string]bool{}
	next := 0
	publish := func(what string) {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for want := len(acked) + 20; len(acked) < want; {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d acknowledged, want %d within 45 s", what, len(acked), want)
			}
			body := fmt.Sprint(next)
			next++
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			if _, err := js.Publish(pctx, "t.x", []byte(body)); err == nil {
				acked[body] = true
			}
			pcancel()
		}
	}
	publish("all three up")
	for _, node := range c.Nodes() {
		if err := node.Kill(); err != nil {
			t.Fatal(err)
		}
		publish(node.Name() + " down")
		if err := node.Start(ctx); err != nil {
			t.Fatalf("restart %s: %v", node.Name(), err)
		}
		if err := c.WaitMetaLeader(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s killed and back, %d acked", node.Name(), len(acked))
	}
	// Every acknowledged message is in the stream (an unacknowledged one
	// may be too: its ack may have been lost, not the message).
	var missing int
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing = len(acked)
		st, err := js.Stream(ctx, "T")
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(ctx); err == nil {
				for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
					if m, err := st.GetMsg(ctx, seq); err == nil && acked[string(m.Data)] {
						missing--
					}
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged messages missing from the stream (%v)", missing, len(acked), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
