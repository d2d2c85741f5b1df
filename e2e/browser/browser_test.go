package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/orderbus/orderbus/e2e/launcher"
	"github.com/orderbus/orderbus/pkg/stack"
)

// chromiumPath returns the Chromium to drive, failing the test when there
// is none (`make browser`, which `make test` runs first, installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ORDERBUS_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("no Chromium at %s (%v): run `make browser` (apt-get install chromium) or set ORDERBUS_CHROMIUM", path, err)
	}
	return path
}

// newBrowser starts headless Chromium with a fresh profile and returns a
// context for chromedp actions; the browser ends at cleanup.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The first run starts the browser, which lives as long as its
	// context: no timeout on that one, only on what comes after.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// artifactsDir returns the folder screenshots go to: $ORDERBUS_ARTIFACTS,
// else test-artifacts/ in the repository root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ORDERBUS_ARTIFACTS")
	if dir == "" {
		root, err := stack.RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the browser's viewport as <name>.png in the artifacts
// folder and logs where.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// startSystem starts order, inventory, email, sms and the console with the
// launcher, on free ports, and closes it at cleanup.
func startSystem(t *testing.T) *launcher.System {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var logs bytes.Buffer
	sys, err := launcher.Start(ctx, launcher.Config{
		Services: []string{"order", "inventory", "email", "sms", "console"},
		Env: map[string]map[string]string{
			"console": {"CONSOLE_POLL_INTERVAL": "200ms"},
		},
		Output: &lockedWriter{w: &logs},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("start system: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("system log tail:\n%s", sys.Logs())
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close system: %v", err)
		}
	})
	return sys
}

// samplePhone is a UK number in E.164, texted by the sms service's log
// provider (nothing is delivered).
const samplePhone = "+442071838750"

// placeOrder places an order of one white mug and returns its id.
func placeOrder(t *testing.T, sys *launcher.System) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"customer": map[string]string{"id": uuid.NewString(), "name": "Ada Lovelace",
			"email": "ada@example.com", "phone": samplePhone},
		"items": []map[string]any{{"sku": "MUG-WHITE", "quantity": 1}},
	})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sys.OrderURL()+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/orders: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &a) != nil || a.ID == "" {
		t.Fatalf("POST /v1/orders: %s %s, want 202 with an id", resp.Status, b)
	}
	return a.ID
}

// waitFor polls cond every 100ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last seen: %s", what, timeout, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mailSubjects returns the subjects of the mails Mailpit holds.
func mailSubjects(base string) ([]string, error) {
	resp, err := http.Get(base + "/api/v1/messages")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Messages []struct {
			Subject string `json:"Subject"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, err
	}
	var out []string
	for _, m := range list.Messages {
		out = append(out, m.Subject)
	}
	return out, nil
}

// text returns the visible text of the page.
func text(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// TestBrowser runs the browser tests on one system: first Mailpit's UI
// (which needs the email service), then the console, which stops email.
func TestBrowser(t *testing.T) {
	chromiumPath(t)
	sys := startSystem(t)
	t.Run("mailpit shows the receipt", func(t *testing.T) { testMailpitReceipt(t, sys) })
	t.Run("console shows the journey and the backlog", func(t *testing.T) { testConsole(t, sys) })
}

func testMailpitReceipt(t *testing.T, sys *launcher.System) {
	if !stack.MailpitHasUI() {
		t.Fatal("the Mailpit in the tools folder has no web UI (npm was missing when it was built): install npm, run make tools")
	}
	id := placeOrder(t, sys)
	subject := fmt.Sprintf("Your orderbus order %s is received", id[:8])
	waitFor(t, 30*time.Second, "the receipt in Mailpit", func() (bool, string) {
		subjects, err := mailSubjects(sys.MailAPIURL())
		return err == nil && strings.Contains(strings.Join(subjects, "\n"), subject), fmt.Sprint(subjects, err)
	})

	ctx := newBrowser(t, time.Minute)
	link := fmt.Sprintf(`//*[contains(text(), %q)]`, subject)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sys.MailAPIURL()),
		chromedp.WaitVisible(link),
	); err != nil {
		t.Fatalf("the receipt %q in Mailpit's list: %v\npage: %s", subject, err, text(ctx))
	}
	screenshot(t, ctx, "mailpit-list")
	if err := chromedp.Do(ctx,
		chromedp.Click(link),
		chromedp.WaitVisible(chromedp.CSS(`#preview-html`)),
	); err != nil {
		t.Fatalf("open the receipt: %v\npage: %s", err, text(ctx))
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "/view/") {
		t.Errorf("after clicking the receipt the page is %s, want a message view", url)
	}
	if page := text(ctx); !strings.Contains(page, subject) {
		t.Errorf("the message view does not show the subject %q:\n%s", subject, page)
	}
	screenshot(t, ctx, "mailpit-receipt")
}

func testConsole(t *testing.T, sys *launcher.System) {
	ctx := newBrowser(t, 2*time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sys.ServiceURL("console")),
		chromedp.WaitVisible(chromedp.CSS(`#conn.live`)),
	); err != nil {
		t.Fatalf("open the console: %v\npage: %s", err, text(ctx))
	}
	id := placeOrder(t, sys)
	row := fmt.Sprintf(`tr[data-order=%q]`, id)
	for _, sel := range []string{
		row + ` td.status.confirmed`,
		row + ` td[data-step="placed"][data-result="placed"]`,
		row + ` td[data-step="receipt"][data-result="sent"]`,
		row + ` td[data-step="sms"][data-result="sent"]`,
		row + ` td[data-step="stock"][data-result="reserved"]`,
		row + ` td[data-step="outcome"][data-result="confirmed"]`,
	} {
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			t.Fatalf("console: %s: %v\npage: %s", sel, err, text(ctx))
		}
	}
	screenshot(t, ctx, "console-confirmed")

	if err := sys.StopService(t.Context(), "email"); err != nil {
		t.Fatal(err)
	}
	const more = 3
	for range more {
		placeOrder(t, sys)
	}
	pending := fmt.Sprintf(`(() => { const e = document.querySelector('tr[data-consumer="email"] td.pending');
		return e !== null && Number(e.textContent) >= %d; })()`, more)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](pending, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		t.Fatalf("console: the email consumer's pending count did not reach %d: %v\npage: %s", more, err, text(ctx))
	}
	screenshot(t, ctx, "console-email-stopped")
}
