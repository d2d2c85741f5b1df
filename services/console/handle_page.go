package main

import (
	"embed"
	"io/fs"
	"net/http"
)

// ui holds the page: plain HTML, CSS and JavaScript, no build step.
//
//go:embed ui
var ui embed.FS

// handlePage serves the console page.
func handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := ui.ReadFile("ui/index.html")
		if err != nil {
			http.Error(w, "page missing", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		_, _ = w.Write(b)
	})
}

// handleAssets serves the page's script and style sheet under /ui/.
func handleAssets() http.Handler {
	sub, _ := fs.Sub(ui, "ui") // "ui" is embedded: cannot fail
	return http.StripPrefix("/ui/", http.FileServerFS(sub))
}
