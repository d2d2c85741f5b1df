package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Files written by WriteFiles into a run's folder.
const (
	ResultFile  = "result.json"
	PictureFile = "latency.png"
	TableFile   = "table.txt"
)

// WriteFiles writes result.json, latency.png and table.txt into a new
// folder root/<start time> and returns the folder. It returns an error
// when the folder exists already or a file cannot be written.
func (r *Result) WriteFiles(root string) (string, error) {
	dir := filepath.Join(root, r.Started.Format("20060102-150405"))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("write results: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("write results: %w", err)
	}
	var js, png, table bytes.Buffer
	err := errors.Join(r.WriteJSON(&js), r.WritePNG(&png), r.PrintTable(&table))
	if err != nil {
		return dir, fmt.Errorf("write results: %w", err)
	}
	for name, b := range map[string][]byte{ResultFile: js.Bytes(), PictureFile: png.Bytes(), TableFile: table.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return dir, fmt.Errorf("write results: %w", err)
		}
	}
	return dir, nil
}
