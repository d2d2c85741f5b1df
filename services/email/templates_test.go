package main

import (
	"strings"
	"testing"

	"github.com/orderbus/orderbus/pkg/events"
)

func TestReceiptTemplates(t *testing.T) {
	t.Parallel()
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	order := func(name string, items ...events.Item) events.OrderPlaced {
		return events.OrderPlaced{
			OrderID:  "0195f0a8-1234-7000-8000-000000000001",
			Customer: events.Customer{ID: "c-1", Name: name, Email: "a@example.com"},
			Items:    items,
		}
	}
	tests := []struct {
		name             string
		order            events.OrderPlaced
		text, html       []string // substrings each body must contain
		notText, notHTML []string // substrings it must not contain
	}{
		{
			name:  "greets by name and lists every item",
			order: order("Ada Lovelace", events.Item{SKU: "SKU-TEA", Quantity: 2}, events.Item{SKU: "SKU-CUP", Quantity: 1}),
			text: []string{"Hello Ada Lovelace,", "Order: 0195f0a8-1234-7000-8000-000000000001",
				"SKU-TEA", "x 2", "SKU-CUP", "x 1", "3 items in total."},
			html: []string{"Hello Ada Lovelace,", "<strong>0195f0a8-1234-7000-8000-000000000001</strong>",
				"<td>SKU-TEA</td><td align=\"right\">2</td>", "<td>SKU-CUP</td><td align=\"right\">1</td>", "3 items in total."},
		},
		{
			name:  "one item is singular",
			order: order("Bo", events.Item{SKU: "SKU-1", Quantity: 1}),
			text:  []string{"1 item in total."},
			html:  []string{"1 item in total."},
		},
		{
			name:    "no name still greets",
			order:   order("", events.Item{SKU: "SKU-1", Quantity: 4}),
			text:    []string{"Hello,\n", "4 items in total."},
			html:    []string{"<p>Hello,</p>"},
			notText: []string{"Hello ,"},
		},
		{
			name:    "html escapes the customer's data",
			order:   order(`<script>alert("x")</script>`, events.Item{SKU: "<b>SKU</b>", Quantity: 1}),
			text:    []string{`Hello <script>alert("x")</script>,`},
			html:    []string{"&lt;script&gt;", "&lt;b&gt;SKU&lt;/b&gt;"},
			notHTML: []string{"<script>", "<b>SKU"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tmpl.Receipt(tt.order)
			if err != nil {
				t.Fatalf("Receipt: %v", err)
			}
			if want := "Your orderbus order 0195f0a8 is received"; c.Subject != want {
				t.Errorf("Subject = %q, want %q", c.Subject, want)
			}
			check := func(kind, body string, want, notWant []string) {
				for _, s := range want {
					if !strings.Contains(body, s) {
						t.Errorf("%s body lacks %q:\n%s", kind, s, body)
					}
				}
				for _, s := range notWant {
					if strings.Contains(body, s) {
						t.Errorf("%s body contains %q:\n%s", kind, s, body)
					}
				}
			}
			check("text", c.Text, tt.text, tt.notText)
			check("html", c.HTML, tt.html, tt.notHTML)
		})
	}
}

func TestApologyTemplates(t *testing.T) {
	t.Parallel()
	tmpl, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	rejected := func(name string, missing ...string) events.OrderRejected {
		return events.OrderRejected{
			OrderID:     "0195f0a8-1234-7000-8000-000000000001",
			Customer:    events.Customer{ID: "c-1", Name: name, Email: "a@example.com"},
			MissingSKUs: missing,
		}
	}
	tests := []struct {
		name             string
		order            events.OrderRejected
		text, html       []string // substrings each body must contain
		notText, notHTML []string // substrings it must not contain
	}{
		{
			name:  "names the order and every missing sku",
			order: rejected("Ada Lovelace", "SKU-TEA", "SKU-CUP"),
			text: []string{"Hello Ada Lovelace,", "order 0195f0a8-1234-7000-8000-000000000001",
				"out of stock:", "  SKU-TEA\n", "  SKU-CUP\n"},
			html: []string{"Hello Ada Lovelace,", "<strong>0195f0a8-1234-7000-8000-000000000001</strong>",
				"<li>SKU-TEA</li>", "<li>SKU-CUP</li>"},
			notText: []string{"Some of its items"},
			notHTML: []string{"Some of its items"},
		},
		{
			name:    "no skus listed",
			order:   rejected("Bo"),
			text:    []string{"Some of its items are out of stock."},
			html:    []string{"<p>Some of its items are out of stock.</p>"},
			notText: []string{"These items"},
			notHTML: []string{"<ul>"},
		},
		{
			name:    "no name still greets",
			order:   rejected("", "SKU-1"),
			text:    []string{"Hello,\n"},
			html:    []string{"<p>Hello,</p>"},
			notText: []string{"Hello ,"},
		},
		{
			name:    "html escapes the event's data",
			order:   rejected(`<script>alert("x")</script>`, "<b>SKU</b>"),
			text:    []string{`Hello <script>alert("x")</script>,`},
			html:    []string{"&lt;script&gt;", "<li>&lt;b&gt;SKU&lt;/b&gt;</li>"},
			notHTML: []string{"<script>", "<b>SKU"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tmpl.Apology(tt.order)
			if err != nil {
				t.Fatalf("Apology: %v", err)
			}
			if want := "Sorry, your orderbus order 0195f0a8 could not be fulfilled"; c.Subject != want {
				t.Errorf("Subject = %q, want %q", c.Subject, want)
			}
			for _, b := range []struct {
				kind, body    string
				want, notWant []string
			}{{"text", c.Text, tt.text, tt.notText}, {"html", c.HTML, tt.html, tt.notHTML}} {
				for _, s := range b.want {
					if !strings.Contains(b.body, s) {
						t.Errorf("%s body lacks %q:\n%s", b.kind, s, b.body)
					}
				}
				for _, s := range b.notWant {
					if strings.Contains(b.body, s) {
						t.Errorf("%s body contains %q:\n%s", b.kind, s, b.body)
					}
				}
			}
		})
	}
}
