package server

import "net/http"

// chatRoutes mounts the chats API (/v1/api/chats...).
func (s *Server) chatRoutes(mux *http.ServeMux) {}
