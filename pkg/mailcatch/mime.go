package mailcatch

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// maxMIMEDepth bounds multipart nesting; real mail nests two or three deep.
const maxMIMEDepth = 16

// mailBodies collects the first text/plain and text/html bodies of a mail.
type mailBodies struct {
	text, html         string
	haveText, haveHTML bool
}

// bodies returns the decoded text/plain and text/html bodies of a mail
// with header h and (transfer-encoded) body, walking multipart parts and
// skipping attachments.
func bodies(h textproto.MIMEHeader, body io.Reader) (text, html string, err error) {
	var b mailBodies
	if err := b.walk(h, body, 0); err != nil {
		return "", "", err
	}
	return b.text, b.html, nil
}

func (b *mailBodies) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		// RFC 2045 §5.2: no or a broken Content-Type means plain text.
		mediaType, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		return b.walkMultipart(body, params["boundary"], depth)
	}
	if disposition, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); disposition == "attachment" {
		return nil
	}
	var dst *string
	switch {
	case mediaType == "text/plain" && !b.haveText:
		dst, b.haveText = &b.text, true
	case mediaType == "text/html" && !b.haveHTML:
		dst, b.haveHTML = &b.html, true
	default:
		return nil
	}
	data, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mediaType, err)
	}
	*dst = crlfToLF(toUTF8(data, params["charset"]))
	return nil
}

func (b *mailBodies) walkMultipart(body io.Reader, boundary string, depth int) error {
	if depth >= maxMIMEDepth {
		return fmt.Errorf("MIME parts nested deeper than %d", maxMIMEDepth)
	}
	if boundary == "" {
		return errors.New("multipart body without boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		// NextRawPart keeps Content-Transfer-Encoding for transferDecoder;
		// NextPart would decode quoted-printable but not base64.
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read MIME part: %w", err)
		}
		if err := b.walk(part.Header, part, depth+1); err != nil {
			return err
		}
	}
}

func transferDecoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // skips \r and \n
	}
	return r // 7bit, 8bit, binary
}

// toUTF8 converts Latin-1 text to UTF-8; other charsets are returned as
// they are (orderbus writes UTF-8).
func toUTF8(data []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "latin-1":
		runes := make([]rune, len(data))
		for i, c := range data {
			runes[i] = rune(c)
		}
		return string(runes)
	}
	return string(data)
}
