package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	gomail "github.com/wneessen/go-mail"
)

// baseline is the synchronous design the seed argues against, served by
// the bench tool itself: POST /v1/orders stores the order in PostgreSQL,
// sends the receipt over SMTP on a new connection, and only then answers.
// It is a yardstick, not a service: no outbox, no retries.
type baseline struct {
	pool   *pgxpool.Pool
	mail   func() (*gomail.Client, error)
	srv    *http.Server
	ln     net.Listener
	served chan error
}

// startBaseline serves the baseline on a free port of 127.0.0.1, storing
// into the pgbench scratch database at dbURL (its orders table) and
// sending through the SMTP server at smtpHost:smtpPort.
func startBaseline(ctx context.Context, dbURL, smtpHost string, smtpPort, conns int) (*baseline, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	cfg.MaxConns = int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	// A go-mail Client holds one connection at a time: each request gets
	// its own, as a naive synchronous handler would.
	client := func() (*gomail.Client, error) {
		return gomail.NewClient(smtpHost, gomail.WithPort(smtpPort), gomail.WithTLSPolicy(gomail.NoTLS),
			gomail.WithTimeout(30*time.Second))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("baseline: %w", err)
	}
	b := &baseline{pool: pool, mail: client, ln: ln, served: make(chan error, 1)}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/orders", b.handlePlace())
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	go func() { b.served <- b.srv.Serve(ln) }()
	return b, nil
}

// URL returns the baseline's base URL.
func (b *baseline) URL() string { return "http://" + b.ln.Addr().String() }

// Close stops serving and closes the pool.
func (b *baseline) Close(ctx context.Context) error {
	err := b.srv.Shutdown(ctx)
	if serr := <-b.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	b.pool.Close()
	return err
}

func (b *baseline) handlePlace() http.Handler {
	type request struct {
		Customer struct {
			ID    uuid.UUID `json:"id"`
			Name  string    `json:"name"`
			Email string    `json:"email"`
			Phone string    `json:"phone"`
		} `json:"customer"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		id := uuid.New()
		c := req.Customer
		if _, err := b.pool.Exec(r.Context(), `INSERT INTO orders (id, customer_id, customer_name, customer_email,
			customer_phone, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', now(), now())`,
			id, c.ID, c.Name, c.Email, c.Phone); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusInternalServerError)
			return
		}
		msg := gomail.NewMsg()
		_ = msg.From("orders@bench.example.com")
		if err := msg.To(c.Email); err != nil {
			http.Error(w, "recipient", http.StatusBadRequest)
			return
		}
		msg.Subject("Your order " + id.String() + " is received")
		msg.SetBodyString(gomail.TypeTextPlain, "Thank you for your order "+id.String()+".")
		client, err := b.mail()
		if err == nil {
			err = client.DialAndSendWithContext(r.Context(), msg)
		}
		if err != nil {
			http.Error(w, "send: "+err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":%q}`, id.String())
	})
}
