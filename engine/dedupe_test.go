package engine

import "testing"

// TestSeenSetReleaseForgetsNothingEarly: a claim released after failed
// work, then claimed and finished again, is remembered for the set's whole
// span — the slot of the released claim, when recycled, must not forget
// the later outcome (it did: after three newer messages in a set of 4).
func TestSeenSetReleaseForgetsNothingEarly(t *testing.T) {
	s := newSeenSet(4)
	if _, seen := s.claim("a"); seen {
		t.Fatal("a new set has seen a")
	}
	s.release("a") // the work failed; a redelivery will do it
	if _, seen := s.claim("a"); seen {
		t.Fatal("a released claim is still seen")
	}
	s.put("a", remembered{key: "payment.success", orderID: "o-a"})
	for _, k := range []string{"b", "c", "d"} {
		if _, seen := s.claim(k); seen {
			t.Fatalf("%s seen before it was claimed", k)
		}
		s.put(k, remembered{key: "payment.success"})
	}
	r, seen := s.claim("a")
	if !seen || r.orderID != "o-a" || r.busy {
		t.Fatalf("after 3 newer messages in a set of 4: a seen %v %+v, want its outcome", seen, r)
	}
	// One more message recycles a's own slot: now it is the oldest and
	// is forgotten, as the bound says.
	s.claim("e")
	if _, seen := s.claim("a"); seen {
		t.Error("a still seen after 4 newer messages in a set of 4")
	}
	if len(s.items) > 4 {
		t.Errorf("the set holds %d entries, bound 4", len(s.items))
	}
}
