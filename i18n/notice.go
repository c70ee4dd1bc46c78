package i18n

// Notice returns the subject and body of a notice of kind filled with its
// params, in l's language: the messages "notice.<kind>.subject" and
// "notice.<kind>.body"; a kind without them gets the generic line
// ("notice.generic.subject" and ".body"), so that a notice of any kind can
// be shown and mailed.
func (l *Localizer) Notice(kind string, params map[string]string) (subject, body string) {
	data := make(map[string]any, len(params))
	for k, v := range params {
		data[k] = v
	}
	subject, ok := l.localize("notice."+kind+".subject", data)
	if !ok {
		subject = l.T("notice.generic.subject")
	}
	body, ok = l.localize("notice."+kind+".body", data)
	if !ok {
		body = l.T("notice.generic.body")
	}
	return subject, body
}
