package portal

import (
	"testing"
	"time"
)

// Review finding 4: strangers cannot take every password-hash slot — one is
// kept for attempts the throttle knows (an account signing in where it did
// before), and a stranger who finds the slots busy is told to wait (429), not
// made to queue. (Throttled attempts never get here: signIn answers them
// before taking a slot.)
func TestHashSlotsPreferKnown(t *testing.T) {
	s := &Server{hashSlots: make(chan struct{}, 2), strangerSlots: make(chan struct{}, 1)}
	ctx := t.Context()
	if err := s.takeHashSlot(ctx, false); err != nil {
		t.Fatalf("the first stranger: %v", err)
	}
	start := time.Now()
	if err := s.takeHashSlot(ctx, false); err == nil {
		t.Fatal("a second stranger got a slot: strangers could hold them all")
	} else if d := time.Since(start); d > strangerRetry+time.Second {
		t.Fatalf("a stranger waited %v", d)
	}
	if err := s.takeHashSlot(ctx, true); err != nil {
		t.Fatalf("a known attempt while strangers fill theirs: %v", err)
	}
	s.releaseHashSlot(false)
	if err := s.takeHashSlot(ctx, false); err != nil {
		t.Fatalf("a stranger after one finished: %v", err)
	}
	s.releaseHashSlot(true)
	s.releaseHashSlot(false)
	if len(s.hashSlots) != 0 || len(s.strangerSlots) != 0 {
		t.Fatalf("slots leaked: %d %d", len(s.hashSlots), len(s.strangerSlots))
	}
}
