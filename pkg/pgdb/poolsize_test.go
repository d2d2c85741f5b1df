package pgdb

import "testing"

func TestPoolConfigMaxConns(t *testing.T) {
	cfg, err := poolConfig("postgres://u@127.0.0.1:5432/db", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConns < DefaultMaxConns {
		t.Errorf("MaxConns = %d without pool_max_conns, want at least %d", cfg.MaxConns, DefaultMaxConns)
	}
	cfg, err = poolConfig("postgres://u@127.0.0.1:5432/db?pool_max_conns=3", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConns != 3 {
		t.Errorf("MaxConns = %d with pool_max_conns=3, want 3", cfg.MaxConns)
	}
}
