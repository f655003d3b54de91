package site

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"deling/internal/access"
	"deling/internal/governance"
	"deling/internal/web/httperr"
)

//go:embed static/*.css static/*.js
var staticFiles embed.FS

// assets are the static files with their content hashes, so that their URLs
// change when they do and can be cached for good.
type assets struct {
	byName map[string]asset // name → asset
	byURL  map[string]asset // "/static/<hash>/<name>" → asset
}

type asset struct {
	url, contentType string
	body             []byte
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]asset{}, byURL: map[string]asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		ct := "text/css; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		as := asset{url: "/static/" + hex.EncodeToString(sum[:8]) + "/" + name, contentType: ct, body: b}
		a.byName[name], a.byURL[as.url] = as, as
		return nil
	})
	return a, err
}

// url is the content-hash URL of a static file; templates call it as {{static "name"}}.
func (a *assets) url(name string) (string, error) {
	as, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return as.url, nil
}

// Static answers GET /static/: the static files, by their content-hash URLs.
func (s *Site) Static(w http.ResponseWriter, r *http.Request) {
	as, ok := s.assets.byURL[r.URL.Path]
	if !ok {
		httperr.Write(w, r, http.StatusNotFound, "", "Fant ikke filen.")
		return
	}
	w.Header().Set("Content-Type", as.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(as.body)
}

// funcs are the functions every template may call.
func (s *Site) funcs() template.FuncMap {
	return template.FuncMap{
		"static":    s.assets.url,
		"thousands": func(n int64) string { return Thousands(n) },
		"int64":     func(n uint64) int64 { return int64(n) },
		"inc":       func(n int) int { return n + 1 },
		"time":      s.OsloTime,
		"logtime":   s.OsloSeconds,
		"date":      s.OsloDate,
		"isodate":   Date,
		"kanal":     func(c any) string { return governance.ChannelLabel(access.Channel(fmt.Sprint(c))) }, // an access.Channel or the log's string
		"miljo":     governance.EnvLabel,
		"org":       OrgLabel,
	}
}
