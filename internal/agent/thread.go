package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/store"
)

// ErrStore is matched by a turn's error when the chat store failed (a
// database down or restarting). The user is told storeUnavailable; the
// cause, which names the database, is only logged.
var ErrStore = errors.New("chat store failed")

// storeUnavailable is the <error> of a turn that ErrStore ended; notSaved
// the one of a turn that ran but whose messages could not be stored.
const (
	storeUnavailable = "The chat history is unavailable right now; try again in a moment."
	notSaved         = "This answer could not be saved in the chat history: it will be missing when the chat is reopened."
)

// threadCopy is a session's copy of one stored thread, as the model sees
// it. A turn reads the thread from it and appends to both, so that a turn's
// cost does not grow with the chat; the store's sequence number tells
// whether another replica wrote since.
type threadCopy struct {
	// seq is the store's sequence number the copy is at.
	seq  int64
	msgs []llm.Message
}

// apply adds stored messages to the model's view: records for the user's
// history are skipped, a summary replaces the messages it covers.
func (tc *threadCopy) apply(stored []store.Message) {
	for _, m := range stored {
		switch m.Role {
		case store.RoleConfirmation, store.RoleUITools:
			// Records for the user's history, not the model's conversation.
		case store.RoleSummary:
			n := min(m.Summarized, len(tc.msgs))
			msgs := make([]llm.Message, 0, 1+len(tc.msgs)-n)
			tc.msgs = append(append(msgs, summaryMessage(m.Content)), tc.msgs[n:]...)
		default:
			tc.msgs = append(tc.msgs, m.Message)
		}
	}
}

// history returns a thread as the model sees it. The session's copy is
// checked against the store's sequence number (one indexed read); the
// thread is read only when the chat is opened or resumed, and then only
// what another replica added (all of it when the thread shrank: deleted).
// The caller must not modify the slice.
func (s *Session) history(ctx context.Context, thread string) ([]llm.Message, error) {
	seq, err := s.r.o.Store.Seq(ctx, thread)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	tc := s.threads[thread]
	if tc != nil && tc.seq == seq {
		return tc.msgs, nil
	}
	if tc == nil || seq < tc.seq {
		tc = &threadCopy{}
	}
	stored, last, err := s.r.o.Store.MessagesAfter(ctx, thread, tc.seq)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStore, err)
	}
	tc.apply(stored)
	tc.seq = last
	s.threads[thread] = tc
	return tc.msgs, nil
}

// append stores messages on a thread and adds them to the session's copy.
// When another writer got in between, the copy stays where it was and the
// next history call reads what it missed, this batch included.
func (s *Session) append(ctx context.Context, thread string, msgs ...store.Message) error {
	seq, err := s.r.o.Store.Append(ctx, thread, msgs...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStore, err)
	}
	if tc := s.threads[thread]; tc != nil && seq == tc.seq+int64(len(msgs)) {
		tc.apply(msgs)
		tc.seq = seq
	}
	return nil
}
