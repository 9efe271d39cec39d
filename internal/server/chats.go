package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/store"
)

const (
	// maxChatBody bounds a PUT body: a name is at most 500 characters.
	maxChatBody = 64 << 10
	// untitled is the Python agent's name for a chat without name or prompt.
	untitled = "Untitled Chat"
)

// chatRoutes mounts the chats API (/v1/api/chats...), ui-protocol §3.1.
// Every route needs a user, and a chat of another user is a 404 like an
// unknown one, so ids cannot be probed.
func (s *Server) chatRoutes(mux *http.ServeMux) {
	h := func(f http.HandlerFunc) http.Handler { return s.withUser(f) }
	mux.Handle("GET /v1/api/chats", h(s.listChats))
	mux.Handle("DELETE /v1/api/chats", h(s.deleteChats))
	mux.Handle("GET /v1/api/chats/{id}", h(s.getChat))
	mux.Handle("PUT /v1/api/chats/{id}", h(s.renameChat))
	mux.Handle("DELETE /v1/api/chats/{id}", h(s.deleteChat))
	mux.Handle("GET /v1/api/chats/{id}/messages", h(s.chatMessages))
}

// chatJSON is a chat as the UI reads it.
type chatJSON struct {
	ID        string     `json:"id"`
	UserID    string     `json:"userId"`
	Name      string     `json:"name"`
	CreatedAt string     `json:"createdAt"`
	Usage     *usageJSON `json:"usage,omitempty"`
}

// usageJSON is the Python agent's usage shape.
type usageJSON struct {
	TotalTokens int `json:"totalTokens"`
	store.TokenUsage
	ByAgent map[string]usageJSON `json:"byAgent,omitempty"`
}

func total(u store.TokenUsage) usageJSON {
	return usageJSON{TotalTokens: u.InputTokens + u.OutputTokens, TokenUsage: u}
}

func toJSON(c store.Chat) chatJSON {
	name := c.Name
	if name == "" {
		name = untitled
	}
	return chatJSON{ID: c.ID, UserID: c.UserID, Name: name, CreatedAt: isoTime(c.CreatedAt)}
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func detail(w http.ResponseWriter, code int, msg string) {
	httpapi.WriteJSON(w, code, map[string]string{"detail": msg})
}

// storeError answers a store failure: ErrNotFound is a 404, anything else
// a logged 500 that does not leak the cause.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		detail(w, http.StatusNotFound, "Chat not found")
		return
	}
	s.log.Error("chat store failed", "path", r.URL.Path, "error", err)
	detail(w, http.StatusInternalServerError, "internal error")
}

// chatID validates the path id as the WebSocket does (a UUID matches).
func chatID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !chatIDPattern.MatchString(id) {
		detail(w, http.StatusBadRequest, "invalid chat id")
		return "", false
	}
	return id, true
}

func (s *Server) listChats(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	asc := false
	switch r.URL.Query().Get("sort") {
	case "", "createdAt:desc":
	case "createdAt:asc":
		asc = true
	default:
		detail(w, http.StatusBadRequest, "sort must be createdAt:asc or createdAt:desc")
		return
	}
	chats, err := s.o.Store.ListChats(r.Context(), u.ID, asc)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := make([]chatJSON, len(chats))
	for i, c := range chats {
		out[i] = toJSON(c)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) deleteChats(w http.ResponseWriter, r *http.Request) {
	u, _ := UserFrom(r.Context())
	if _, err := s.o.Store.DeleteChats(r.Context(), u.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getChat(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(w, r)
	if !ok {
		return
	}
	u, _ := UserFrom(r.Context())
	c, err := s.o.Store.Chat(r.Context(), id, u.ID)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	by, err := s.o.Store.ChatUsage(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var sum store.TokenUsage
	usage := usageJSON{ByAgent: map[string]usageJSON{}}
	for src, v := range by {
		sum = sum.Add(v)
		usage.ByAgent[src] = total(v)
	}
	t := total(sum)
	usage.TotalTokens, usage.TokenUsage = t.TotalTokens, t.TokenUsage
	out := toJSON(c)
	out.Usage = &usage
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// renameChat takes any JSON object and uses only "name", as the Python
// agent does. Bad input is refused before anything is written.
func (s *Server) renameChat(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxChatBody))
	if err != nil {
		detail(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	var in map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &in) != nil || in == nil {
		detail(w, http.StatusBadRequest, "body must be a JSON object with a name")
		return
	}
	var name string
	if raw, ok := in["name"]; !ok || json.Unmarshal(raw, &name) != nil {
		detail(w, http.StatusBadRequest, `"name" must be a string`)
		return
	}
	switch {
	case strings.TrimSpace(name) == "":
		detail(w, http.StatusBadRequest, `"name" must not be empty`)
		return
	case utf8.RuneCountInString(name) > store.MaxNameLen:
		detail(w, http.StatusBadRequest, `"name" is longer than 500 characters`)
		return
	}
	u, _ := UserFrom(r.Context())
	c, err := s.o.Store.RenameChat(r.Context(), id, u.ID, name)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, toJSON(c))
}

func (s *Server) deleteChat(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(w, r)
	if !ok {
		return
	}
	u, _ := UserFrom(r.Context())
	if err := s.o.Store.DeleteChat(r.Context(), id, u.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) chatMessages(w http.ResponseWriter, r *http.Request) {
	id, ok := chatID(w, r)
	if !ok {
		return
	}
	u, _ := UserFrom(r.Context())
	if _, err := s.o.Store.Chat(r.Context(), id, u.ID); err != nil {
		s.storeError(w, r, err)
		return
	}
	msgs, err := s.o.Store.Messages(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, historyRows(id, msgs, s.o.ModelText))
}
