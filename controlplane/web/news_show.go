package web

import "net/http"

type newsPage struct {
	Page
	Item newsItem
}

// showNews shows one news item by its file name.
func (s *Server) showNews(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	for _, it := range s.newsItems() {
		if it.Slug == slug {
			s.render(w, r, http.StatusOK, "news_show", newsPage{Page: s.page(it.Title, "news", nil), Item: it})
			return
		}
	}
	s.notFound(w, r)
}
