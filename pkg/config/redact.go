package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every secret Redact removes.
const Mask = "xxxxx"

// Redact returns rawURL fit for a log line: the password in its user info
// ("postgres://app:xxxxx@db:5432/orders") and the values of secret query
// parameters (password, sslpassword, token, secret, api_key...) are
// replaced by Mask. A PostgreSQL keyword/value DSN ("host=db
// password=secret") has its password values masked too. A URL that does
// not parse is masked by pattern, never returned with its secret. A user
// name alone is kept, so a NATS token given as user info is not hidden:
// pass such URLs with user:password.
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, "://") {
		return redactKeywords(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		userInfo := regexp.MustCompile(`(://[^/@?#]*?:)[^/@?#]*@`)
		masked := userInfo.ReplaceAllString(rawURL, "${1}"+Mask+"@")
		return redactQuery(masked)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), Mask)
	}
	u.RawQuery = redactQuery(u.RawQuery)
	return u.String()
}

// redactQuery masks secret parameters in a query string (or a URL, for
// the unparsable case).
func redactQuery(s string) string {
	secret := regexp.MustCompile(`(?i)([?&;]|^)(password|sslpassword|passwd|pwd|pass|secret|token|api_?key|access_?key)=[^&#]*`)
	return secret.ReplaceAllString(s, "${1}${2}="+Mask)
}

// redactKeywords masks password values in a keyword/value DSN, quoted
// ('with spaces') or not.
func redactKeywords(s string) string {
	secret := regexp.MustCompile(`(?i)\b(password|sslpassword)(\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)
	return secret.ReplaceAllString(s, "${1}${2}"+Mask)
}

// MaskUserInfo returns a comma-separated list of server URLs with the whole
// user information of each (user, password or token) replaced by Mask,
// even when a URL does not parse or has no scheme ("u:p@h:4222" →
// "xxxxx@h:4222"). It is the rule for error messages about a NATS_URL,
// where a bare user name may be a token; Redact, which keeps user names,
// is the rule for logging the configuration.
func MaskUserInfo(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		at := strings.LastIndex(p, "@")
		if at < 0 {
			continue
		}
		start := strings.Index(p, "://")
		if start < 0 || start > at {
			start = 0
		} else {
			start += len("://")
		}
		parts[i] = p[:start] + Mask + p[at:]
	}
	return strings.Join(parts, ",")
}
