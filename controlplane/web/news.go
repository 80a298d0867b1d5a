package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yuin/goldmark"
)

// newsItem is one news file: YYYY-MM-DD-slug.md in Config.NewsDir, its
// title the first "# " line.
type newsItem struct {
	Slug  string // the file name without .md
	Date  time.Time
	Title string
	Body  template.HTML
}

// newsCache rereads the folder at most once a minute.
type newsCache struct {
	mu    sync.Mutex
	at    time.Time
	items []newsItem
}

// newsReload is how long a read of the news folder is kept.
const newsReload = time.Minute

// newsItems returns every item, newest first.
func (s *Server) newsItems() []newsItem {
	if s.cfg.NewsDir == "" {
		return nil
	}
	s.news.mu.Lock()
	defer s.news.mu.Unlock()
	if now := s.now(); s.news.items == nil || now.Sub(s.news.at) > newsReload {
		items, err := loadNews(s.cfg.NewsDir)
		if err != nil {
			s.log.Warn("web: read news", "dir", s.cfg.NewsDir, "err", err)
		}
		s.news.items, s.news.at = items, now
	}
	return s.news.items
}

// loadNews reads the folder through os.OpenRoot, so no name can reach
// outside it, and converts each file from Markdown. Raw HTML in a file is
// not passed through (goldmark's default).
func loadNews(dir string) ([]newsItem, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return []newsItem{}, fmt.Errorf("web: open news folder: %w", err)
	}
	defer root.Close()
	names, err := fs.Glob(root.FS(), "*.md")
	if err != nil {
		return []newsItem{}, fmt.Errorf("web: list news: %w", err)
	}
	items := []newsItem{}
	for _, n := range names {
		slug := strings.TrimSuffix(n, ".md")
		if len(slug) < 11 {
			continue
		}
		date, err := time.Parse("2006-01-02", slug[:10])
		if err != nil {
			continue
		}
		src, err := fs.ReadFile(root.FS(), n)
		if err != nil {
			return items, fmt.Errorf("web: read news %s: %w", n, err)
		}
		item := newsItem{Slug: slug, Date: date, Title: slug[11:]}
		if first, rest, ok := strings.Cut(string(src), "\n"); ok && strings.HasPrefix(first, "# ") {
			item.Title, src = strings.TrimSpace(first[2:]), []byte(rest)
		}
		var buf bytes.Buffer
		if err := goldmark.Convert(src, &buf); err != nil {
			return items, fmt.Errorf("web: convert news %s: %w", n, err)
		}
		item.Body = template.HTML(buf.String()) // #nosec G203 -- goldmark escapes raw HTML by default
		items = append(items, item)
	}
	slices.SortFunc(items, func(a, b newsItem) int { return b.Date.Compare(a.Date) })
	return items, nil
}

// markdownFile converts an operator's Markdown file (terms, privacy).
func markdownFile(path string) (template.HTML, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("web: read %s: %w", path, err)
	}
	var buf bytes.Buffer
	if err := goldmark.Convert(src, &buf); err != nil {
		return "", fmt.Errorf("web: convert %s: %w", path, err)
	}
	return template.HTML(buf.String()), nil // #nosec G203 -- goldmark escapes raw HTML by default
}

// builtinMarkdown converts one of the embedded default texts.
func builtinMarkdown(name string) (template.HTML, error) {
	src, err := templateFS.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("web: built-in text %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := goldmark.Convert(src, &buf); err != nil {
		return "", fmt.Errorf("web: convert %s: %w", name, err)
	}
	return template.HTML(buf.String()), nil // #nosec G203 -- our own text
}
