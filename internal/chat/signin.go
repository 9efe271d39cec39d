package chat

import (
	"context"
	"fmt"
)

// Browser is what an OAuth sign-in asks of the user's browser over one
// connection (spec/ui-protocol.md, authentication frames): open the
// authorization URL, or refresh with the sealed cookie it holds. It speaks
// through an Emitter, so the wait is registered before the frame is sent
// and the connection's single reader routes the answer (Emitter.Ask).
type Browser struct{ Emitter }

// AskSignIn sends <authentication> with the authorization URL for agent and
// waits for the user: confirmed is true on authentication_confirmed (the
// browser says the sign-in completed), false on authentication_canceled. It
// returns ctx's cause when ctx ends first.
func (b Browser) AskSignIn(ctx context.Context, authURL, agent string) (confirmed bool, err error) {
	reply, err := b.Ask(ctx, authenticationFrame(authURL, agent), ReplyAuthConfirmed, ReplyAuthCanceled)
	if err != nil {
		return false, fmt.Errorf("sign-in of %q: %w", agent, err)
	}
	return reply == ReplyAuthConfirmed, nil
}

// AskRefresh sends <token-refresh> for agent (the browser then POSTs
// /v1/api/oauth2/refresh with its cookie) and waits for
// token_refresh_confirmed.
func (b Browser) AskRefresh(ctx context.Context, agent string) error {
	if _, err := b.Ask(ctx, TokenRefreshFrame(agent), ReplyRefreshConfirmed); err != nil {
		return fmt.Errorf("token refresh of %q: %w", agent, err)
	}
	return nil
}
