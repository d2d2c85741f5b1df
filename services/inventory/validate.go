package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a stock level request.
const (
	maxAvailable = 1_000_000
	maxNameRunes = 200
	maxSKULength = 32
)

// setStockRequest is the body of PUT /v1/stock/{sku}.
type setStockRequest struct {
	// Available is required; a pointer tells a missing level from 0.
	Available *int `json:"available"`
	// Name, when given, renames the SKU; when absent the name is kept.
	Name *string `json:"name"`
}

// Valid implements web.Validator: it returns what is wrong, by field.
func (req setStockRequest) Valid() map[string]string {
	problems := map[string]string{}
	switch {
	case req.Available == nil:
		problems["available"] = "is required"
	case *req.Available < 0 || *req.Available > maxAvailable:
		problems["available"] = fmt.Sprintf("must be a whole number from 0 to %d", maxAvailable)
	}
	if req.Name != nil {
		name := *req.Name
		switch {
		case strings.TrimSpace(name) == "":
			problems["name"] = "must not be blank; leave it out to keep the current name"
		case utf8.RuneCountInString(name) > maxNameRunes:
			problems["name"] = fmt.Sprintf("must be at most %d characters", maxNameRunes)
		case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
			problems["name"] = "must not contain control characters"
		}
	}
	return problems
}

// validSKU reports whether s matches ^[A-Z0-9][A-Z0-9-]{1,31}$, the SKU
// pattern of the catalog (the stock table checks it too).
func validSKU(s string) bool {
	if len(s) < 2 || len(s) > maxSKULength || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
