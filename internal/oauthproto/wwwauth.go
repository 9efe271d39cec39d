package oauthproto

import (
	"sort"
	"strings"
)

// Challenge is one authentication challenge of a WWW-Authenticate header
// (RFC 9110 §11.6.1).
type Challenge struct {
	// Scheme is the authentication scheme, lower-cased ("bearer", "basic", ...).
	Scheme string
	// Params holds the auth-params; names are lower-cased, values unquoted and
	// unescaped. When a parameter repeats, the first occurrence wins.
	Params map[string]string
	// Token68 is set for challenges of the token68 form (e.g. "Negotiate abc=").
	Token68 string
}

// ParseChallenges parses all WWW-Authenticate header values (several values,
// several comma-separated challenges per value). It never fails: malformed
// parts are skipped so a broken extra challenge cannot hide the Bearer one.
func ParseChallenges(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := wwwParser{s: v}
		out = append(out, p.parse()...)
	}
	return out
}

// BearerChallenge returns the first challenge with the Bearer scheme.
func BearerChallenge(cs []Challenge) (Challenge, bool) {
	for _, c := range cs {
		if c.Scheme == "bearer" {
			return c, true
		}
	}
	return Challenge{}, false
}

// ResourceMetadataURL returns the resource_metadata parameter (RFC 9728 §5.1)
// of the Bearer challenge, or of any challenge carrying one (e.g. DPoP).
func ResourceMetadataURL(cs []Challenge) string {
	if b, ok := BearerChallenge(cs); ok && b.Params["resource_metadata"] != "" {
		return b.Params["resource_metadata"]
	}
	for _, c := range cs {
		if v := c.Params["resource_metadata"]; v != "" {
			return v
		}
	}
	return ""
}

// ChallengeScope returns the scope parameter of the Bearer challenge.
func ChallengeScope(cs []Challenge) string {
	b, _ := BearerChallenge(cs)
	return b.Params["scope"]
}

// ChallengeError returns the error parameter of the Bearer challenge
// (e.g. "invalid_token", "insufficient_scope").
func ChallengeError(cs []Challenge) string {
	b, _ := BearerChallenge(cs)
	return b.Params["error"]
}

// formatChallenges renders challenges as one header value; parameters are
// sorted by name and always quoted. ParseChallenges(formatChallenges(cs))
// yields cs again for any cs produced by ParseChallenges.
func formatChallenges(cs []Challenge) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Scheme)
		if c.Token68 != "" {
			b.WriteByte(' ')
			b.WriteString(c.Token68)
			continue
		}
		names := make([]string, 0, len(c.Params))
		for n := range c.Params {
			names = append(names, n)
		}
		sort.Strings(names)
		for j, n := range names {
			if j == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(", ")
			}
			b.WriteString(n)
			b.WriteString(`="`)
			v := c.Params[n]
			for k := 0; k < len(v); k++ {
				if v[k] == '"' || v[k] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(v[k])
			}
			b.WriteByte('"')
		}
	}
	return b.String()
}

type wwwParser struct {
	s string
	i int
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

func (p *wwwParser) eof() bool { return p.i >= len(p.s) }

func (p *wwwParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *wwwParser) skipOWSAndCommas() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *wwwParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// bareValue reads an unquoted parameter value. RFC 9110 only allows a token,
// but servers send unquoted URLs (":" and "/" are not tchars), so anything up
// to the next comma or whitespace is accepted.
func (p *wwwParser) bareValue() string {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
		p.i++
	}
	return p.s[start:p.i]
}

// skipToComma advances past the next comma that is not inside a quoted string.
func (p *wwwParser) skipToComma() {
	inQuote := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case inQuote && c == '\\':
			if p.i < len(p.s) {
				p.i++
			}
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return
		}
	}
}

// quoted parses a quoted-string starting at '"'. An unterminated string runs
// to the end of the input (lenient).
func (p *wwwParser) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// tryToken68 consumes "token68 OWS" if it is followed by a comma or the end.
func (p *wwwParser) tryToken68() (string, bool) {
	start := p.i
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == start {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	end := j
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	p.i = j
	return p.s[start:end], true
}

func (p *wwwParser) parse() []Challenge {
	var out []Challenge
	for {
		p.skipOWSAndCommas()
		if p.eof() {
			return out
		}
		scheme := p.token()
		if scheme == "" {
			p.skipToComma()
			continue
		}
		p.skipOWS()
		if !p.eof() && p.s[p.i] == '=' {
			// A stray "name=value" where a scheme was expected: drop it.
			p.skipToComma()
			continue
		}
		c := Challenge{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
		if p.eof() || p.s[p.i] == ',' {
			out = append(out, c)
			continue
		}
		if t, ok := p.tryToken68(); ok {
			c.Token68 = t
			out = append(out, c)
			continue
		}
		p.params(&c)
		out = append(out, c)
	}
}

// params parses "#auth-param" after a scheme. It stops (without consuming) at
// a token that is not followed by '=', which starts the next challenge.
func (p *wwwParser) params(c *Challenge) {
	for {
		p.skipOWSAndCommas()
		if p.eof() {
			return
		}
		start := p.i
		name := p.token()
		if name == "" {
			p.skipToComma()
			continue
		}
		p.skipOWS()
		if p.eof() || p.s[p.i] != '=' {
			p.i = start // next challenge's scheme
			return
		}
		p.i++ // '='
		p.skipOWS()
		var val string
		if !p.eof() && p.s[p.i] == '"' {
			val = p.quoted()
		} else {
			val = p.bareValue()
		}
		key := strings.ToLower(name)
		if _, dup := c.Params[key]; !dup {
			c.Params[key] = val
		}
		p.skipOWS()
		if p.eof() {
			return
		}
		if p.s[p.i] != ',' {
			p.skipToComma() // garbage after a value
		}
	}
}
