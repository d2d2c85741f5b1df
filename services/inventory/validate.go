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
