// Package bench measures orderbus on the machine it runs on and reports
// the figures next to the targets of issue 11, as ratios where a ratio
// fits: the PostgreSQL limit measured then and there with pgbench, the
// order service alone (closed and open loop), the whole system until
// every effect of every order is delivered and reconciled (package
// e2e/chaos's checker), latency under an open-loop load, the same load
// with an SMTP server answering every command late next to a synchronous
// baseline, and each process's memory and CPU per order.
//
// Run does all of it and returns a Result; Result.PrintTable prints the
// one table, WriteFiles the machine-readable result.json and the picture
// latency.png. The command e2e/cmd/orderbus-bench (make bench) wraps it.
// Nothing here asserts a figure: targets are informational.
package bench
