package chaos

import (
	"fmt"
	"math/rand/v2"

	"github.com/google/uuid"
)

// The demo catalog's SKUs (services/inventory/migrations). limitedSKU is
// stocked for only part of the orders that ask for it, so a known number
// of orders is rejected and apologised for.
var (
	plentySKUs = []string{"ESPRESSO-1KG", "MUG-WHITE", "FILTER-PAPER-100", "KETTLE-GOOSENECK",
		"TEA-SENCHA-250G", "DRIPPER-V60", "SCALE-COFFEE"}
	limitedSKU = "GRINDER-HAND"
)

// limitedShare is the share of orders that ask for one limitedSKU; half
// of them get it, so about a tenth of all orders is rejected.
const limitedShare = 0.2

// customer is a synthetic customer (example.com addresses, 555 numbers).
type customer struct {
	ID, Name, Email, Phone string
}

// order is one order the clients place, with its fixed request body.
type order struct {
	Key      string
	Customer customer
	Items    []Item
}

// plan is the seeded workload: the orders, the stock set before the
// first one, and the number of orders the limited stock must reject.
type plan struct {
	Orders     []order
	Stock      map[string]int
	Rejections int
}

// newPlan draws n orders from a pool of n/3 customers (so that many have
// several orders), each with one to three plentiful SKUs and, for about
// limitedShare of them, one limitedSKU. Plentiful SKUs are stocked for
// every order; limitedSKU for half of the orders that ask for it.
func newPlan(rng *rand.Rand, n int) plan {
	customers := make([]customer, max(1, n/3))
	for i := range customers {
		customers[i] = customer{
			ID:    uuidFrom(rng),
			Name:  fmt.Sprintf("Chaos Customer %d", i+1),
			Email: fmt.Sprintf("customer%d@chaos.example.com", i+1),
			Phone: fmt.Sprintf("+1555%07d", i+1),
		}
	}
	p := plan{Stock: map[string]int{}}
	wantLimited := 0
	for range n {
		o := order{Key: uuidFrom(rng), Customer: customers[rng.IntN(len(customers))]}
		skus := append([]string(nil), plentySKUs...)
		rng.Shuffle(len(skus), func(i, j int) { skus[i], skus[j] = skus[j], skus[i] })
		for _, sku := range skus[:1+rng.IntN(3)] {
			q := 1 + rng.IntN(3)
			o.Items = append(o.Items, Item{SKU: sku, Quantity: q})
			p.Stock[sku] += q
		}
		if rng.Float64() < limitedShare {
			o.Items = append(o.Items, Item{SKU: limitedSKU, Quantity: 1})
			wantLimited++
		}
		p.Orders = append(p.Orders, o)
	}
	for _, sku := range plentySKUs {
		p.Stock[sku] += 0 // every SKU gets a level, even one no order asks for
	}
	p.Stock[limitedSKU] = wantLimited / 2
	p.Rejections = wantLimited - p.Stock[limitedSKU]
	return p
}

func uuidFrom(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return uuid.UUID(b).String()
}
