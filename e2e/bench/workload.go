package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/orderbus/orderbus/e2e/chaos"
)

// The demo catalog's SKUs (services/inventory/migrations). Plentiful ones
// are stocked for every order; limitedSKU, in the whole-system run, for
// half of the orders that ask for it, so that a known number is rejected
// and apologised for.
var (
	plentySKUs = []string{"ESPRESSO-1KG", "MUG-WHITE", "FILTER-PAPER-100", "KETTLE-GOOSENECK",
		"TEA-SENCHA-250G", "DRIPPER-V60", "SCALE-COFFEE"}
	limitedSKU = "GRINDER-HAND"
)

// plentyStock is the level every plentiful SKU is set to: the inventory
// service's maximum, enough for any run.
const plentyStock = 1_000_000

// order is one order a client places, with its request body.
type order struct {
	chaos.Placed // OrderID is filled in from the answer
	body         []byte
}

// workload draws orders from a seeded generator: customers from a pool
// (example.com addresses, 555 numbers), one to three plentiful SKUs, and
// with probability limitedShare one limitedSKU.
type workload struct {
	rng          *rand.Rand
	customers    int
	limitedShare float64
	prefix       string
}

func newWorkload(seed uint64, customers int, limitedShare float64, prefix string) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, 0xbe4c)), customers: max(1, customers),
		limitedShare: limitedShare, prefix: prefix}
}

// next returns a new order. It is not safe for concurrent use.
func (w *workload) next() order {
	c := w.rng.IntN(w.customers)
	o := order{Placed: chaos.Placed{
		CustomerID: customerID(w.prefix, c), // the same customer keeps the same id
		Email:      fmt.Sprintf("%s%d@bench.example.com", w.prefix, c+1),
	}}
	skus := []string{}
	for _, i := range w.rng.Perm(len(plentySKUs))[:1+w.rng.IntN(3)] {
		skus = append(skus, plentySKUs[i])
	}
	for _, sku := range skus {
		o.Items = append(o.Items, chaos.Item{SKU: sku, Quantity: 1 + w.rng.IntN(3)})
	}
	if w.rng.Float64() < w.limitedShare {
		o.Items = append(o.Items, chaos.Item{SKU: limitedSKU, Quantity: 1})
	}
	body, err := json.Marshal(map[string]any{
		"customer": map[string]string{
			"id": o.CustomerID, "name": fmt.Sprintf("Bench Customer %d", c+1),
			"email": o.Email, "phone": fmt.Sprintf("+1555%07d", c+1),
		},
		"items": o.Items,
	})
	if err != nil {
		panic(err) // maps of strings and ints always encode
	}
	o.body = body
	return o
}

// orders returns n orders.
func (w *workload) orders(n int) []order {
	out := make([]order, n)
	for i := range out {
		out[i] = w.next()
	}
	return out
}

// limitedWanted counts the orders that ask for limitedSKU.
func limitedWanted(orders []order) int {
	n := 0
	for _, o := range orders {
		for _, it := range o.Items {
			if it.SKU == limitedSKU {
				n++
			}
		}
	}
	return n
}

// customerID derives a stable UUID (version 4 layout) for customer c of
// a workload prefix.
func customerID(prefix string, c int) string {
	rng := rand.New(rand.NewPCG(uint64(c), hash(prefix)))
	return uuidFrom(rng)
}

func hash(s string) uint64 {
	var h uint64 = 14695981039346656037
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func uuidFrom(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
