package notify

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"

	"kaiportal/i18n"
	"kaiportal/models"
)

// item is one notice as a mail shows it.
type item struct {
	Subject, Body, Link string
}

// Compose writes the mail of a batch in its user's language: one notice,
// or the day's digest of several; a plain-text part and an HTML part.
func Compose(cat *i18n.Catalogue, baseURL string, b models.MailBatch) Mail {
	l := cat.For(b.Lang)
	base := strings.TrimRight(baseURL, "/")
	items := make([]item, 0, len(b.Messages))
	for _, m := range b.Messages {
		s, body := l.Notice(string(m.Kind), m.ParamMap())
		link := ""
		if strings.HasPrefix(m.Link, "/") {
			link = base + m.Link
		}
		items = append(items, item{Subject: s, Body: body, Link: link})
	}
	subject := ""
	switch {
	case b.Digest:
		subject = l.T("notify.mail.digest_subject", map[string]any{"n": len(items)})
	case len(items) > 0:
		subject = items[0].Subject
	}
	foot := mailFoot{
		Intro:      l.T("notify.mail.intro"),
		Open:       l.T("notify.mail.open"),
		Inbox:      l.T("notify.mail.inbox"),
		InboxLink:  base + "/inbox",
		Prefs:      l.T("notify.mail.prefs"),
		PrefsLink:  base + "/account/notifications",
		SiteName:   l.T("site.name"),
		DigestNote: "",
	}
	if b.Digest {
		foot.DigestNote = l.T("notify.mail.digest_intro", map[string]any{"n": len(items)})
	}

	var text strings.Builder
	text.WriteString(foot.Intro + "\n\n")
	if foot.DigestNote != "" {
		text.WriteString(foot.DigestNote + "\n\n")
	}
	for i, it := range items {
		if len(items) > 1 {
			text.WriteString(strconv.Itoa(i+1) + ". ")
		}
		text.WriteString(it.Subject + "\n" + it.Body + "\n")
		if it.Link != "" {
			text.WriteString(foot.Open + ": " + it.Link + "\n")
		}
		text.WriteString("\n")
	}
	text.WriteString("-- \n" + foot.SiteName + "\n" + foot.Inbox + ": " + foot.InboxLink + "\n" + foot.Prefs + ": " + foot.PrefsLink + "\n")

	var html bytes.Buffer
	_ = mailHTML.Execute(&html, struct {
		Lang, Subject string
		Items         []item
		Foot          mailFoot
	}{b.Lang, subject, items, foot})

	name := b.User.Name
	return Mail{To: b.User.Email, ToName: name, Subject: subject, Text: text.String(), HTML: html.String(), Lang: b.Lang}
}

type mailFoot struct {
	Intro, Open, Inbox, InboxLink, Prefs, PrefsLink, SiteName, DigestNote string
}

var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.6; color: #1e2124;">
<p>{{.Foot.Intro}}</p>
{{if .Foot.DigestNote}}<p>{{.Foot.DigestNote}}</p>{{end}}
{{range .Items}}<div style="margin: 0 0 1.5em;">
<h2 style="font-size: 1.1em; margin: 0 0 .25em;">{{.Subject}}</h2>
<p style="margin: 0 0 .25em;">{{.Body}}</p>
{{if .Link}}<p style="margin: 0;"><a href="{{.Link}}">{{$.Foot.Open}}</a></p>{{end}}
</div>
{{end}}<hr>
<p style="font-size: .9em; color: #464c53;">{{.Foot.SiteName}} · <a href="{{.Foot.InboxLink}}">{{.Foot.Inbox}}</a> · <a href="{{.Foot.PrefsLink}}">{{.Foot.Prefs}}</a></p>
</body></html>
`))
