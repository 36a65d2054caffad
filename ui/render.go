package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/hookd/hookd/models"
)

// pages are the parsed templates, one set per page (layout + page).
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"join": strings.Join,
	"list": func(s ...string) []string { return s },
	"dur":  models.FormatDuration,
	"ms":   func(f float64) string { return fmt.Sprintf("%.1f ms", f) },
	// pretty indents a JSON document for display; anything else is shown as it is.
	"pretty": func(s string) string {
		var b bytes.Buffer
		if json.Indent(&b, []byte(s), "", "  ") != nil {
			return s
		}
		return b.String()
	},
}

// parsePages parses each page template with the layout and the partials
// (templates/part_*.html).
func parsePages() pages {
	out := pages{}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "part_") {
			continue // the layout, and partials shared by the pages
		}
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/part_*.html", n))
	}
	return out
}

// view is what every page template is given: the viewer (nil before
// sign-in) and the page's data.
type view struct {
	V *viewer
	D map[string]any
}

// render writes a page. Every page is private and may show a secret, so
// none is cached.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *viewer, data map[string]any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.Error("ui.no_template", "route", r.Pattern, "template", name)
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", view{V: v, D: data}); err != nil {
		s.log.Error("ui.render_failed", "route", r.Pattern, "template", name, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
