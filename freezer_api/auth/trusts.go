package auth

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/trusts"
)

// TrustRequest describes the trust a central scheduler needs to run a job
// for its owner: from the caller (the trustor, acting with its own token)
// to the freezer service user, on the job's project.
type TrustRequest struct {
	CallerToken string
	Trustor     *Identity
	ProjectID   string
	// Roles delegated ([centralized_scheduler] trusts_delegated_roles);
	// empty means the caller's roles.
	Roles []string
}

// ServiceUserID is the id of the service user (the trustee of trusts).
func (k *Keystone) ServiceUserID() string { return k.serviceUserID }

// userClient is an identity client acting with a caller's token.
func (k *Keystone) userClient(token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: k.identity.HTTPClient, UserAgent: k.identity.UserAgent}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: k.identity.Endpoint, ResourceBase: k.identity.ResourceBase}
}

// EnsureTrust returns the id of a trust for the request, reusing an
// existing trust with the same trustor, trustee and project (so that all
// of a user's jobs share one).
func (k *Keystone) EnsureTrust(ctx context.Context, req TrustRequest) (string, error) {
	if k.serviceUserID == "" {
		return "", fmt.Errorf("the service user's id is unknown")
	}
	tok := req.CallerToken
	if req.Trustor.ProjectID != req.ProjectID {
		// An admin acting on another project: re-scope its token there.
		res := tokens.Create(ctx, k.userClient(tok), &tokens.AuthOptions{TokenID: tok, Scope: tokens.Scope{ProjectID: req.ProjectID}})
		t, err := res.ExtractTokenID()
		if err != nil {
			return "", fmt.Errorf("re-scoping the caller's token to project %s: %w", req.ProjectID, err)
		}
		tok = t
	}
	uc := k.userClient(tok)
	pages, err := trusts.List(uc, trusts.ListOpts{TrustorUserID: req.Trustor.UserID}).AllPages(ctx)
	if err != nil {
		return "", fmt.Errorf("listing the caller's trusts: %w", err)
	}
	existing, err := trusts.ExtractTrusts(pages)
	if err != nil {
		return "", fmt.Errorf("reading the caller's trusts: %w", err)
	}
	now := k.now()
	for _, t := range existing {
		if t.TrusteeUserID == k.serviceUserID && t.ProjectID == req.ProjectID && !t.Impersonation &&
			(t.ExpiresAt.IsZero() || t.ExpiresAt.After(now)) && t.DeletedAt.IsZero() {
			return t.ID, nil
		}
	}
	names := req.Roles
	if len(names) == 0 {
		names = req.Trustor.Roles
	}
	roles := make([]trusts.Role, 0, len(names))
	for _, n := range names {
		roles = append(roles, trusts.Role{Name: n})
	}
	t, err := trusts.Create(ctx, uc, trusts.CreateOpts{
		TrustorUserID: req.Trustor.UserID, TrusteeUserID: k.serviceUserID, ProjectID: req.ProjectID,
		Impersonation: false, AllowRedelegation: false, Roles: roles,
	}).Extract()
	if err != nil {
		return "", fmt.Errorf("creating a trust for the service user: %w", err)
	}
	return t.ID, nil
}

// DeleteTrust removes a trust no job uses any more. The caller's token is
// tried first (a trustor may delete its trusts), then the service user's.
func (k *Keystone) DeleteTrust(ctx context.Context, callerToken, trustID string) error {
	err := trusts.Delete(ctx, k.userClient(callerToken), trustID).ExtractErr()
	if err == nil || gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return nil
	}
	err2 := trusts.Delete(ctx, k.identity, trustID).ExtractErr()
	if err2 == nil || gophercloud.ResponseCodeIs(err2, http.StatusNotFound) {
		return nil
	}
	return fmt.Errorf("deleting trust %s: %w", trustID, err)
}
