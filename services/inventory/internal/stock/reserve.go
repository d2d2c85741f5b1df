// Package stock holds the inventory service's business rule: an order is
// reserved all or nothing. Either every line can be served from the
// available stock, and all of it is reserved, or nothing is, and the
// order is rejected with the SKUs that fall short. The package decides;
// it neither reads nor writes the database (see the service's store).
package stock

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// MaxQuantity is the largest quantity a line may ask for: what a
// PostgreSQL integer holds.
const MaxQuantity = math.MaxInt32

// ErrInvalidOrder is wrapped by every error of Normalize: the order cannot
// be decided on, and asking again will not change that.
var ErrInvalidOrder = errors.New("invalid order")

// Line is a quantity of one SKU, asked for by an order or reserved for it.
type Line struct {
	SKU      string
	Quantity int
}

// Normalize returns the order's lines with those of the same SKU merged
// (quantities added up), sorted by SKU: the order in which the stock rows
// must be locked, so that two reservations never wait on each other. It
// returns an error wrapping ErrInvalidOrder when there are no lines, a SKU
// is empty, or a quantity is not between 1 and MaxQuantity. A SKU of any
// other shape is kept: it is simply not in stock (see Decide).
func Normalize(lines []Line) ([]Line, error) {
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrInvalidOrder)
	}
	bySKU := make(map[string]int, len(lines))
	for i, l := range lines {
		if l.SKU == "" {
			return nil, fmt.Errorf("%w: line %d has no sku", ErrInvalidOrder, i)
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			return nil, fmt.Errorf("%w: line %d quantity %d is not between 1 and %d", ErrInvalidOrder, i, l.Quantity, MaxQuantity)
		}
		bySKU[l.SKU] += l.Quantity // at most len(lines) * MaxQuantity: no overflow in an int64
	}
	out := make([]Line, 0, len(bySKU))
	for sku, q := range bySKU {
		out = append(out, Line{SKU: sku, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// SKUs returns the SKUs of normalized lines, in their (sorted) order.
func SKUs(lines []Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.SKU
	}
	return out
}

// Decision is the outcome of Decide.
type Decision struct {
	// Reserve is true when every line can be served: the caller takes
	// Lines from the stock. When false, nothing is taken.
	Reserve bool
	// Lines are the normalized lines: what to take from stock when Reserve.
	Lines []Line
	// Missing lists, sorted, the SKUs that are unknown or whose available
	// stock is below the quantity asked; empty when Reserve.
	Missing []string
}

// Decide applies the all-or-nothing rule to normalized lines (see
// Normalize: one line per SKU) against available, the stock level of each
// known SKU; SKUs absent from the map are unknown, hence missing.
func Decide(lines []Line, available map[string]int) Decision {
	d := Decision{Lines: lines, Missing: []string{}}
	for _, l := range lines {
		if have, ok := available[l.SKU]; !ok || have < l.Quantity {
			d.Missing = append(d.Missing, l.SKU)
		}
	}
	slices.Sort(d.Missing) // already sorted for normalized lines; cheap insurance otherwise
	d.Missing = slices.Compact(d.Missing)
	d.Reserve = len(d.Missing) == 0
	return d
}
