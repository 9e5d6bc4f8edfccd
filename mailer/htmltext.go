package mailer

import (
	"strings"

	"golang.org/x/net/html"
)

// textFromHTML is the plain-text part of an email whose template has only
// an HTML body (PocketBase's templates are HTML only): the text of the
// document with block elements on their own lines and each link's address
// after its text, so that a reader without HTML still gets the link.
func textFromHTML(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	var hrefs []string // one entry per open <a>
	skip := 0          // inside <style>, <script> or <head>
	newline := func() {
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case html.TextToken:
			if skip == 0 {
				writeText(&b, string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			tok := z.Token()
			end := tok.Type == html.EndTagToken
			switch tok.Data {
			case "style", "script", "head", "title":
				if tok.Type == html.StartTagToken {
					skip++
				} else if end && skip > 0 {
					skip--
				}
			case "a":
				if end {
					if n := len(hrefs); n > 0 {
						if h := hrefs[n-1]; h != "" && !strings.Contains(b.String()[max(0, b.Len()-len(h)):], h) {
							b.WriteString(" (" + h + ")")
						}
						hrefs = hrefs[:n-1]
					}
				} else if tok.Type == html.StartTagToken {
					href := ""
					for _, a := range tok.Attr {
						if a.Key == "href" {
							href = a.Val
						}
					}
					hrefs = append(hrefs, href)
				}
			case "br":
				b.WriteByte('\n')
			case "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "ul", "ol", "blockquote", "hr":
				newline()
				if end && tok.Data == "p" {
					b.WriteByte('\n')
				}
			}
		}
	}
}

// writeText appends text with each run of white space as one space, and
// none at the start of a line or after a space.
func writeText(b *strings.Builder, text string) {
	space := false
	for _, r := range text {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			if s := b.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
				b.WriteByte(' ')
			}
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		if s := b.String(); s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
			b.WriteByte(' ')
		}
	}
}

// collapseBlankLines trims each line and keeps at most one empty line in a
// row.
func collapseBlankLines(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			if blank || len(out) == 0 {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
