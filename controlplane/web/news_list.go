package web

import "net/http"

type newsListPage struct {
	Page
	Items []newsItem
}

// listNews lists every news item, newest first.
func (s *Server) listNews(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "news_list", newsListPage{Page: s.page("News", "news", nil), Items: s.newsItems()})
}
