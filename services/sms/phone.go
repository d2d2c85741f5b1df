package main

import "strings"

// maskPhone returns p fit for a log line: the '+', the next two digits
// (mostly the country code) and the last three digits are kept, every
// other character becomes '*' ("+447700900961" → "+44*******961"). A
// number too short to hide at least four digits that way is masked
// entirely but for its '+'.
func maskPhone(p string) string {
	const head, tail = 3, 3
	if len(p) < head+4+tail {
		if strings.HasPrefix(p, "+") {
			return "+" + strings.Repeat("*", len(p)-1)
		}
		return strings.Repeat("*", len(p))
	}
	return p[:head] + strings.Repeat("*", len(p)-head-tail) + p[len(p)-tail:]
}

// redactPhones masks, with maskPhone, every '+' followed by six or more
// digits in s: provider error texts often quote the recipient's number
// ("The 'To' number +15005550001 is not a valid phone number.").
func redactPhones(s string) string {
	if !strings.Contains(s, "+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i + 1
		for s[i] == '+' && j < len(s) && isDigit(s[j]) {
			j++
		}
		if s[i] == '+' && j-i-1 >= 6 {
			b.WriteString(maskPhone(s[i:j]))
			i = j
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
