package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Get returns the body of a GET of url, within ctx. It returns an error
// naming url when the request fails or the answer is not 200.
func Get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return body, nil
}

// httpOK returns nil when a GET of url answers 200.
func httpOK(ctx context.Context, url string) error {
	_, err := Get(ctx, url)
	return err
}
