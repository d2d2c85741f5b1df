// Package dlq is the operator's side of the DLQ stream: it lists the dead
// letters the consumers' runners stored there (see pkg/natsjs), shows one,
// redrives them to the consumer that gave up on them, and purges them.
//
// A dead letter is stored on dlq.<durable>.<original subject> with the
// original body, the original headers except Nats-*, and the Orderbus-*
// headers of natsjs (error, reason, stream, consumer, stream sequence,
// deliveries). A redrive republishes it to its original subject with its
// original headers, plus Orderbus-Redrive-For naming the durable and
// Orderbus-Redrive-Of naming the DLQ sequence, so that only that durable
// handles it again and every other consumer's runner acknowledges it
// untouched. The DLQ copy is deleted only after that durable has
// acknowledged the republished message; until then a second redrive is
// harmless (handlers are idempotent, and the republished message carries
// the Nats-Msg-Id redrive:<durable>:<dlq seq>, so inside the stream's
// duplicate window it is stored once). A dead letter stored without its
// body (Orderbus-Truncated, when the copy would exceed max_payload) is
// redriven with the body of its original, read from the original stream.
//
// Listings never carry a message body: an Entry holds the order id read
// from the payload, the event's type and id, and the original subject
// (whose last token is a customer id, which operators may see), but no
// name, email address or phone number. Show returns the body, for an
// operator who asks for one message.
package dlq
