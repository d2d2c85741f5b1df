package main

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/orderbus/orderbus/pkg/events"
)

// Limits of an order request.
const (
	maxNameRunes   = 200
	maxEmailLength = 254 // RFC 5321 path limit
	maxItems       = 100
	maxQuantity    = 1000
)

// createOrderRequest is the body of POST /v1/orders.
type createOrderRequest struct {
	Customer customerRequest `json:"customer"`
	Items    []itemRequest   `json:"items"`
}

type customerRequest struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type itemRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Valid implements web.Validator: it returns what is wrong, keyed by the
// field's JSON path ("customer.email", "items.2.sku").
func (req createOrderRequest) Valid() map[string]string {
	problems := map[string]string{}
	add := func(field, problem string) {
		if _, ok := problems[field]; !ok {
			problems[field] = problem
		}
	}
	c := req.Customer
	if err := checkCustomerID(c.ID); err != "" {
		add("customer.id", err)
	}
	if err := checkName(c.Name); err != "" {
		add("customer.name", err)
	}
	if err := checkEmail(c.Email); err != "" {
		add("customer.email", err)
	}
	if !events.ValidPhone(c.Phone) {
		add("customer.phone", "must be an E.164 phone number such as +4915112345678")
	}
	switch n := len(req.Items); {
	case n == 0:
		add("items", "must hold at least one item")
	case n > maxItems:
		add("items", fmt.Sprintf("must hold at most %d items", maxItems))
	}
	firstLine := map[string]int{}
	for i, it := range req.Items {
		if !events.ValidSKU(it.SKU) {
			add(fmt.Sprintf("items.%d.sku", i),
				"must be 2 to 32 characters A-Z, 0-9 and '-', not starting with '-'")
		} else if prev, dup := firstLine[it.SKU]; dup {
			add(fmt.Sprintf("items.%d.sku", i), fmt.Sprintf("duplicates items.%d.sku; combine the quantities", prev))
		} else {
			firstLine[it.SKU] = i
		}
		if it.Quantity < 1 || it.Quantity > maxQuantity {
			add(fmt.Sprintf("items.%d.quantity", i), fmt.Sprintf("must be between 1 and %d", maxQuantity))
		}
	}
	return problems
}

// checkCustomerID takes the canonical UUID form in either case;
// newPlacement stores it in lower case (events.ValidUUID), so that one
// customer maps to one NATS subject.
func checkCustomerID(id string) string {
	lower := strings.ToLower(id)
	if !events.ValidUUID(lower) {
		return "must be a UUID such as 0190a9e4-7a10-7c6e-9c4d-3f1e2b8a9d01"
	}
	if lower == uuid.Nil.String() {
		return "must not be the nil UUID"
	}
	return ""
}

func checkName(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return "is required"
	case n > maxNameRunes:
		return fmt.Sprintf("must be at most %d characters", maxNameRunes)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "must not contain control characters"
	}
	return ""
}

func checkEmail(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > maxEmailLength {
		return fmt.Sprintf("must be at most %d characters", maxEmailLength)
	}
	// A bare address only: "Ann <ann@example.com>" parses too, but the
	// display name belongs in customer.name.
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "must be an email address such as ann@example.com"
	}
	return ""
}
