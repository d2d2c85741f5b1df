package pgdb

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/orderbus/orderbus/pkg/natsjs"
)

// Dependency is the name under which a consumer's database failures are
// reported to the runner (natsjs.Unavailable) and its probe registered
// (ConsumerConfig.Probes).
const Dependency = "postgres"

// IsUnavailable reports whether err says that the database cannot serve
// right now, rather than that the statement itself is wrong:
//
//   - no connection could be made (refused, unreachable, authentication or
//     "database not accepting connections" at connect: every
//     *pgconn.ConnectError, since fixing the server or its configuration
//     must let the waiting work through);
//   - the connection broke (network errors, EOF, a closed connection);
//   - a timeout: the context's deadline (a handler deadline, or the pool's
//     acquire timeout) or statement_timeout (SQLSTATE 57014);
//   - the server refuses service: class 08 (connection exception), 53
//     (insufficient resources, 53300 too many connections among them), 57
//     (operator intervention: 57P01 admin shutdown, 57P03 cannot connect
//     now...), 58 (system error), and 25006 (read-only transaction: a
//     primary turned standby during a failover).
//
// A serialization failure or deadlock (40001, 40P01) is transient but not
// unavailability: IsUnavailable is false for it, as for a constraint
// violation or any other statement error, and for context.Canceled (a
// shutdown, not an outage).
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return unavailableState(pgErr.Code)
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}

// unavailableState reports whether an SQLSTATE says the server cannot
// serve now (see IsUnavailable).
func unavailableState(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	case "08", "53", "57", "58":
		return true
	}
	return code == "25006"
}

// Classify returns err marked natsjs.Unavailable(Dependency, err) when
// IsUnavailable(err), so that a consumer's runner pauses on a database
// outage and probes it; any other error, nil, and an error already marked
// permanent or unavailable are returned as they are. Consumers' handlers
// pass every database error through it.
func Classify(err error) error {
	if err == nil || natsjs.IsPermanent(err) {
		return err
	}
	if _, marked := natsjs.DependencyOf(err); marked {
		return err
	}
	if IsUnavailable(err) {
		return natsjs.Unavailable(Dependency, err)
	}
	return err
}
