package state_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

func TestKeyService(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		key, err := b.keys.Create(ctx, "admin", "studio-a")
		if err != nil {
			t.Fatal(err)
		}
		other, err := b.keys.Create(ctx, "admin", "studio-b")
		if err != nil {
			t.Fatal(err)
		}
		prefix := "lethe_" + key.ID + "_"
		secret, ok := strings.CutPrefix(key.Token, prefix)
		if !ok || len(secret) < 40 || key.Tenant != "studio-a" || !key.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("created key = %+v, want token lethe_<id>_<secret> for studio-a", key)
		}

		t.Run("only the secret's SHA-256 is stored", func(t *testing.T) {
			var rows []map[string]any
			if err := b.db.Gorm.Raw("SELECT * FROM lethe_tenant_keys").Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			dump := fmt.Sprint(rows)
			if strings.Contains(dump, secret) {
				t.Fatalf("lethe_tenant_keys holds the secret: %s", dump)
			}
			sum := sha256.Sum256([]byte(secret))
			var stored string
			b.db.Gorm.Raw("SELECT secret_hash FROM lethe_tenant_keys WHERE id = ?", key.ID).Scan(&stored)
			if stored != hex.EncodeToString(sum[:]) {
				t.Errorf("secret_hash = %q, want the secret's SHA-256", stored)
			}
			var audit []map[string]any
			b.db.Gorm.Raw("SELECT * FROM lethe_audit").Scan(&audit)
			if strings.Contains(fmt.Sprint(audit), secret) {
				t.Error("the audit trail holds the secret")
			}
		})

		cases := []struct {
			name   string
			token  string
			tenant string
		}{
			{name: "valid", token: key.Token, tenant: "studio-a"},
			{name: "another valid key", token: other.Token, tenant: "studio-b"},
			{name: "wrong secret", token: prefix + strings.Repeat("A", len(secret))},
			{name: "secret of another key", token: prefix + strings.TrimPrefix(other.Token, "lethe_"+other.ID+"_")},
			{name: "unknown id", token: "lethe_0123456789abcdef_" + secret},
			{name: "no prefix", token: strings.TrimPrefix(key.Token, "lethe_")},
			{name: "empty", token: ""},
			{name: "secret only", token: secret},
		}
		for _, tc := range cases {
			t.Run("authenticate "+tc.name, func(t *testing.T) {
				got, err := b.keys.Authenticate(ctx, tc.token)
				if tc.tenant == "" {
					wantCode(t, err, dsr.EUNAUTHORIZED)
					return
				}
				if err != nil || got.Tenant != tc.tenant || got.Token != "" {
					t.Fatalf("authenticate: %+v, %v; want tenant %s and no token", got, err, tc.tenant)
				}
			})
		}

		t.Run("rotate a key of another tenant", func(t *testing.T) {
			_, err := b.keys.Rotate(ctx, "admin", "studio-a", other.ID, t0.Add(time.Hour))
			wantCode(t, err, dsr.ENOTFOUND)
			got, err := b.keys.Authenticate(ctx, other.Token)
			if err != nil || got.Tenant != "studio-b" || got.ExpiresAt != nil {
				t.Fatalf("the other tenant's key after a refused rotation: %+v, %v; want studio-b's, with no expiry", got, err)
			}
			if n := b.count(t, "lethe_tenant_keys", ""); n != 2 {
				t.Errorf("%d keys stored, want 2 (a refused rotation issues no key)", n)
			}
		})

		t.Run("revoke", func(t *testing.T) {
			for _, tc := range []struct {
				name, tenant, id, code string
			}{
				{name: "of another tenant", tenant: "studio-b", id: key.ID, code: dsr.ENOTFOUND},
				{name: "unknown", tenant: "studio-a", id: "0123456789abcdef", code: dsr.ENOTFOUND},
				{name: "live key", tenant: "studio-a", id: key.ID},
				{name: "again", tenant: "studio-a", id: key.ID},
			} {
				wantCode(t, b.keys.Revoke(ctx, "admin", tc.tenant, tc.id), tc.code)
			}
			_, err := b.keys.Authenticate(ctx, key.Token)
			wantCode(t, err, dsr.EUNAUTHORIZED)
			if _, err := b.keys.Authenticate(ctx, other.Token); err != nil {
				t.Errorf("revoking one key broke another: %v", err)
			}
			if n := b.count(t, "lethe_audit", "action = ?", "key.revoked"); n != 1 {
				t.Errorf("%d key.revoked audit entries, want 1 (revoking twice is a no-op)", n)
			}
			if n := b.count(t, "lethe_audit", "action = ?", "key.created"); n != 2 {
				t.Errorf("%d key.created audit entries, want 2", n)
			}
		})

		t.Run("bad tenant", func(t *testing.T) {
			for _, tenant := range []string{"", "-a", "a b", strings.Repeat("x", 65), "studio/a"} {
				_, err := b.keys.Create(ctx, "admin", tenant)
				wantCode(t, err, dsr.EUNPROCESSABLE)
			}
			if n := b.count(t, "lethe_tenant_keys", ""); n != 2 {
				t.Errorf("%d keys stored, want 2", n)
			}
		})
	})
}

// TestKeyRotateTwice: rotating a key again never lengthens its life, and
// the answer says the end it keeps, not the one asked.
func TestKeyRotateTwice(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		key, err := b.keys.Create(ctx, "admin", "studio-a")
		if err != nil {
			t.Fatal(err)
		}
		first := t0.Add(time.Hour).Truncate(time.Second)
		r1, err := b.keys.Rotate(ctx, "admin", "studio-a", key.ID, first)
		if err != nil || r1.OldValidUntil == nil || !r1.OldValidUntil.Equal(first) {
			t.Fatalf("first rotation: %+v, %v; want the old key valid until %s", r1, err, first)
		}
		r2, err := b.keys.Rotate(ctx, "admin", "studio-a", key.ID, first.Add(24*time.Hour))
		if err != nil || r2.OldValidUntil == nil || !r2.OldValidUntil.Equal(first) {
			t.Fatalf("second rotation asking for a later end: %+v, %v; want the old key still valid until %s only", r2, err, first)
		}
		got, err := b.keys.Authenticate(ctx, key.Token)
		if err != nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(first) {
			t.Fatalf("the old key after two rotations: %+v, %v; want it to expire at %s", got, err, first)
		}
	})
}
