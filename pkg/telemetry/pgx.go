package telemetry

import (
	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
)

// PgxTracer returns the pgx tracer recording a span per query, batch and
// connect (with the SQL text, never its arguments) under the span in the
// query's context; nil when off, so that pgx calls no tracer at all. Pool
// acquisitions are not traced: they would double the spans of every
// handler and tell little.
func (t *Telemetry) PgxTracer() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(t.sdk),
		otelpgx.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelpgx.WithTrimSQLInSpanName(),
		otelpgx.WithDisableAcquireTracer(),
	)
}
