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
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	acked := 0
	publish := func(n int) {
		for range n {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			if _, err := js.Publish(pctx, "t.x", []byte(fmt.Sprint(acked))); err == nil {
				acked++
			}
			pcancel()
		}
	}
	publish(20)
	for _, node := range c.Nodes() {
		if err := node.Kill(); err != nil {
			t.Fatal(err)
		}
		publish(20)
		if err := node.Start(ctx); err != nil {
			t.Fatalf("restart %s: %v", node.Name(), err)
		}
		if err := c.WaitMetaLeader(ctx, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s killed and back, %d acked", node.Name(), acked)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := js.Stream(ctx, "T")
		if err == nil {
			info, err := st.Info(ctx)
			if err == nil && info.State.Msgs == uint64(acked) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream lacks acked messages: %v acked", acked)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if acked < 60 {
		t.Errorf("only %d of 80 publishes acked with one node of three down", acked)
	}
}
