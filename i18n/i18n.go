// Package i18n holds the portal's message catalogues (Korean first, English
// second) and puts the visitor's localizer into the request context, where
// views read it with T.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.json
var files embed.FS

// Supported languages, the default first.
const (
	Korean  = "ko"
	English = "en"
)

// Languages lists the languages the portal speaks.
var Languages = []string{Korean, English}

// Catalogue holds every message in every language.
type Catalogue struct {
	bundle     *goi18n.Bundle
	localizers map[string]*Localizer
}

// Load returns the embedded catalogues, read once per process: they are
// compiled in and never change, and a Catalogue is safe to share (every
// portal in a test process, the mailer beside the web server).
func Load() (*Catalogue, error) { return loadOnce() }

var loadOnce = sync.OnceValues(load)

// load reads the embedded catalogues.
func load() (*Catalogue, error) {
	b := goi18n.NewBundle(language.Korean)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	// One catalogue file per area and language: <area>.<lang>.json.
	for _, lang := range Languages {
		names, err := fs.Glob(files, "*."+lang+".json")
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("i18n: no %s catalogue", lang)
		}
		for _, name := range names {
			if _, err := b.LoadMessageFileFS(files, name); err != nil {
				return nil, fmt.Errorf("i18n: load %s: %w", name, err)
			}
		}
	}
	c := &Catalogue{bundle: b, localizers: map[string]*Localizer{}}
	for _, lang := range Languages {
		c.localizers[lang] = &Localizer{Lang: lang, l: goi18n.NewLocalizer(b, lang)}
	}
	return c, nil
}

// For returns the localizer of a language, Korean for anything unknown.
func (c *Catalogue) For(lang string) *Localizer {
	if l, ok := c.localizers[lang]; ok {
		return l
	}
	return c.localizers[Korean]
}

// Supported reports whether lang is one of the portal's languages.
func Supported(lang string) bool { return lang == Korean || lang == English }

// Localizer translates message IDs into one language.
type Localizer struct {
	Lang string
	l    *goi18n.Localizer
	// plain keeps the text of each message of the catalogue asked for
	// without data: the same every time, and asked for many times on
	// every page.
	plain sync.Map // id → string
}

// T returns the message for id, filled with data. A missing message shows
// its ID in brackets, so it is seen in review; a test checks that every ID
// used exists in every catalogue.
func (l *Localizer) T(id string, data ...map[string]any) string {
	if len(data) == 0 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
		s, ok := l.localize(id)
		if ok { // a missing ID is not kept: the map holds the catalogue at most
			l.plain.Store(id, s)
		}
		return s
	}
	s, _ := l.localize(id, data...)
	return s
}

func (l *Localizer) localize(id string, data ...map[string]any) (string, bool) {
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return "[" + id + "]", false
	}
	return s, true
}

type ctxKey struct{}

// WithLocalizer returns ctx carrying l.
func WithLocalizer(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the localizer in ctx; nil if none.
func From(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

// T translates id with the localizer in ctx.
func T(ctx context.Context, id string, data ...map[string]any) string {
	if l := From(ctx); l != nil {
		return l.T(id, data...)
	}
	return "[" + id + "]"
}

// Lang returns the language of the localizer in ctx.
func Lang(ctx context.Context) string {
	if l := From(ctx); l != nil {
		return l.Lang
	}
	return Korean
}

// HasMessage reports whether every catalogue defines id (for tests).
func (c *Catalogue) HasMessage(lang, id string) bool {
	_, err := c.For(lang).l.Localize(&goi18n.LocalizeConfig{MessageID: id})
	return err == nil
}
