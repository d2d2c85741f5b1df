package main

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"

	"github.com/orderbus/orderbus/pkg/events"
)

// templateFiles holds every mail's <name>.txt.tmpl and <name>.html.tmpl.
//
//go:embed templates/*.tmpl
var templateFiles embed.FS

// mailTemplates renders the mails' plain-text and HTML bodies. The HTML
// templates escape their data (html/template); the text templates do not
// need to. It is safe for concurrent use.
type mailTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// mailContent is a rendered mail: its subject and both bodies.
type mailContent struct {
	Subject, Text, HTML string
}

// parseTemplates parses the embedded templates. An error means a template
// does not parse, which is a bug caught by the tests.
func parseTemplates() (*mailTemplates, error) {
	text, err := texttemplate.New("mail").Option("missingkey=error").ParseFS(templateFiles, "templates/*.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse text templates: %w", err)
	}
	html, err := htmltemplate.New("mail").Option("missingkey=error").ParseFS(templateFiles, "templates/*.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parse html templates: %w", err)
	}
	return &mailTemplates{text: text, html: html}, nil
}

// receiptData is what the receipt templates see.
type receiptData struct {
	Name         string
	OrderID      string
	ShortOrderID string
	Items        []events.Item
	ItemCount    int
}

// Receipt renders the receipt for a placed order: a greeting with the
// customer's name, the order id, each item's SKU and quantity, and the
// total number of items. It returns an error only if a template fails.
func (t *mailTemplates) Receipt(p events.OrderPlaced) (mailContent, error) {
	data := receiptData{
		Name:         p.Customer.Name,
		OrderID:      p.OrderID,
		ShortOrderID: shortID(p.OrderID),
		Items:        p.Items,
	}
	for _, it := range p.Items {
		data.ItemCount += it.Quantity
	}
	text, html, err := t.render("receipt", data)
	if err != nil {
		return mailContent{}, err
	}
	return mailContent{
		Subject: fmt.Sprintf("Your orderbus order %s is received", data.ShortOrderID),
		Text:    text,
		HTML:    html,
	}, nil
}

// apologyData is what the apology templates see.
type apologyData struct {
	Name         string
	OrderID      string
	ShortOrderID string
	MissingSKUs  []string
}

// Apology renders the apology for a rejected order: a greeting with the
// customer's name, the order id, and the SKUs that were out of stock (or
// a general sentence when the event lists none). It returns an error only
// if a template fails.
func (t *mailTemplates) Apology(p events.OrderRejected) (mailContent, error) {
	data := apologyData{
		Name:         p.Customer.Name,
		OrderID:      p.OrderID,
		ShortOrderID: shortID(p.OrderID),
		MissingSKUs:  p.MissingSKUs,
	}
	text, html, err := t.render("apology", data)
	if err != nil {
		return mailContent{}, err
	}
	return mailContent{
		Subject: fmt.Sprintf("Sorry, your orderbus order %s could not be fulfilled", data.ShortOrderID),
		Text:    text,
		HTML:    html,
	}, nil
}

// render executes <name>.txt.tmpl and <name>.html.tmpl with data.
func (t *mailTemplates) render(name string, data any) (text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := t.text.ExecuteTemplate(&tb, name+".txt.tmpl", data); err != nil {
		return "", "", fmt.Errorf("render %s text: %w", name, err)
	}
	if err := t.html.ExecuteTemplate(&hb, name+".html.tmpl", data); err != nil {
		return "", "", fmt.Errorf("render %s html: %w", name, err)
	}
	return tb.String(), hb.String(), nil
}

// shortID is the first block of a UUID: enough for a subject line, which
// a human reads; the full id is in the body and the X-Order-Id header.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
