package mailcatch

import (
	"fmt"
	"net/textproto"
	"strings"
	"testing"
)

// nested returns a body of n multipart levels, each with its own boundary.
func nested(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	return b.String()
}

func TestBodies(t *testing.T) {
	t.Parallel()
	alternative := "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Gr=C3=BC=C3=9Fe, a long line that wraps here=\r\n and goes on\r\n" +
		"--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"PHA+SGk8L3A+\r\n--b1--\r\n"
	tests := []struct {
		name, contentType, encoding, body string
		wantText, wantHTML, wantErr       string
	}{
		{name: "no content type is plain text", body: "hello\r\nworld", wantText: "hello\nworld"},
		{name: "broken content type is plain text", contentType: "text/", body: "hi", wantText: "hi"},
		{name: "plain quoted-printable", contentType: "text/plain; charset=UTF-8", encoding: "Quoted-Printable", body: "a=3Db =E2=82=AC", wantText: "a=b €"},
		{name: "html base64", contentType: "text/html", encoding: "base64", body: "PHA+SGk8L3A+", wantHTML: "<p>Hi</p>"},
		{name: "latin-1", contentType: "text/plain; charset=ISO-8859-1", encoding: "quoted-printable", body: "Gr=FC=DFe", wantText: "Grüße"},
		{name: "alternative", contentType: "multipart/alternative; boundary=b1", body: alternative,
			wantText: "Grüße, a long line that wraps here and goes on", wantHTML: "<p>Hi</p>"},
		{name: "mixed with nested alternative and attachments", contentType: `multipart/mixed; boundary="outer"`,
			body: "preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n" + alternative +
				"--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nnot the body\r\n" +
				"--outer\r\nContent-Type: text/html\r\n\r\n<p>second html</p>\r\n--outer--",
			wantText: "Grüße, a long line that wraps here and goes on", wantHTML: "<p>Hi</p>"},
		{name: "multipart without boundary", contentType: "multipart/alternative", body: "x", wantErr: "without boundary"},
		{name: "truncated multipart", contentType: "multipart/alternative; boundary=b1", body: "--b1\r\nContent-Type: text/plain\r\n\r\nunfinished", wantErr: "unexpected EOF"},
		{name: "nested too deep", contentType: "multipart/mixed; boundary=b0", body: nested(20), wantErr: "nested deeper than 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := textproto.MIMEHeader{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			if tt.encoding != "" {
				h.Set("Content-Transfer-Encoding", tt.encoding)
			}
			text, html, err := bodies(h, strings.NewReader(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text != tt.wantText || html != tt.wantHTML {
				t.Errorf("bodies = %q, %q; want %q, %q", text, html, tt.wantText, tt.wantHTML)
			}
		})
	}
}
