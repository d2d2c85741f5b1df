package chaos

import (
	"fmt"
	"slices"
	"strings"
)

// mails checks the rows of one kind of mail against the orders that must
// have one (expected), and the catcher's copies against the rows.
func (c *checker) mails(kind, label string, expected []string) {
	rows := map[string][]MailRow{}
	known := map[string]bool{} // every Message-ID some row holds
	for _, m := range c.snap.Mails {
		known[m.MessageID] = true
		if m.Kind == kind {
			rows[m.OrderID] = append(rows[m.OrderID], m)
		}
	}
	perRow := map[string]int{}
	var failed []string
	for id, rs := range rows {
		perRow[id] = len(rs)
		for _, r := range rs {
			if r.Status != "sent" {
				failed = append(failed, id)
			}
		}
	}
	c.record(newTally(label+" row (email db)", expected, perRow), false)
	slices.Sort(failed)
	c.failIDs(label+" rows not sent (refused by the SMTP server)", failed)

	caught := map[string][]CaughtMail{}
	for _, m := range c.snap.Caught {
		caught[m.MessageID] = append(caught[m.MessageID], m)
	}
	perCaught := map[string]int{}
	var wrongRecipient []string
	for id, rs := range rows {
		for _, r := range rs {
			copies := caught[r.MessageID]
			perCaught[id] += len(copies)
			for _, m := range copies {
				if !slices.Contains(m.To, r.Recipient) || (c.placed[id].Email != "" && !slices.Contains(m.To, c.placed[id].Email)) {
					wrongRecipient = append(wrongRecipient, id)
				}
			}
		}
	}
	t := newTally(label+" mail (catcher)", expected, perCaught)
	// A mail for an order with no row of its own is unexpected too, but
	// it is counted below among the Message-IDs no row holds.
	var stray []string
	for msgID, ms := range caught {
		if !known[msgID] && kindOfSubject(ms[0].Subject) == kind {
			t.e.Unexpected += len(ms)
			stray = append(stray, msgID)
		}
	}
	slices.Sort(stray)
	if t.e.Duplicated > 0 {
		t.e.Note = fmt.Sprintf("%d copies with the same Message-ID as their twin (at-least-once at the edge)", t.e.Duplicated)
	}
	c.record(t, true)
	c.failIDs(label+" mails whose Message-ID no mail row holds (a duplicate with a different Message-ID, or a mail without a record)", stray)
	c.failIDs(label+" mails to the wrong recipient", wrongRecipient)
}

// kindOfSubject tells a receipt from an apology by the email service's
// subject lines.
func kindOfSubject(subject string) string {
	switch {
	case strings.Contains(subject, "could not be fulfilled"):
		return KindApology
	case strings.Contains(subject, "is received"):
		return KindReceipt
	}
	return "other"
}
