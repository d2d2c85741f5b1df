// Package events is the orderbus messaging contract: the JetStream streams,
// the subjects every service publishes and consumes, the CloudEvents type
// names, and the JSON payloads. It is documented for humans and tools in
// asyncapi.yaml next to this file; a test keeps the two in step.
//
// Messages are CloudEvents 1.0 in binary content mode over NATS headers:
// ce-specversion, ce-id, ce-source, ce-type, ce-time, ce-subject and
// Content-Type travel as headers, the JSON data is the body, and
// Nats-Msg-Id equals ce-id so that JetStream drops a republished event
// within the streams' duplicate window.
//
// Every subject that concerns a customer ends with that customer's id, so
// one customer's messages can be purged from a stream with a subject filter.
package events
