package auth

// policyCase is one decision of a check string (or a list rule of the
// older syntax) for a caller; want is what oslo.policy decides for the
// same rule, credentials and target (policy_integration_test.go asks
// python3-oslo.policy again in make integration).
type policyCase struct {
	Rule    any               `json:"rule"`
	Roles   []string          `json:"roles"`
	Project string            `json:"project"`
	Target  map[string]string `json:"target"`
	Want    bool              `json:"want"`
}

var policyCases = []policyCase{
	{Rule: "role:Admin", Roles: []string{"admin"}, Want: true},
	{Rule: "role:admin", Roles: []string{"Admin"}, Want: true},
	{Rule: "role:'admin'", Roles: []string{"admin"}, Want: false},
	{Rule: "project_id:%(project_id)s", Project: "p1", Want: true},
	{Rule: "project_id:%(project_id)s", Project: "p2", Want: false},
	{Rule: "project_id:%(nokey)s", Project: "p1", Want: false},
	{Rule: "project_id:x-%(project_id)s", Project: "x-p1", Want: true},
	{Rule: "project_id:'p1'", Project: "p1", Want: false},
	{Rule: "project_id:p1", Project: "p1", Want: true},
	{Rule: "project_id:%(project_id)s", Project: "", Want: false},
	{Rule: "project_id:None", Project: "", Want: true},
	{Rule: "user_id:u1", Want: true},
	{Rule: "is_admin:True", Roles: []string{"admin"}, Want: true},
	{Rule: "is_admin:true", Roles: []string{"admin"}, Want: false},
	{Rule: "is_admin:False", Roles: []string{"member"}, Want: true},
	{Rule: "roles:member", Roles: []string{"member"}, Want: true},
	{Rule: "'member':%(role)s", Target: map[string]string{"role": "member"}, Want: true},
	{Rule: "True:%(flag)s", Target: map[string]string{"flag": "True"}, Want: true},
	{Rule: "5:%(n)s", Target: map[string]string{"n": "5"}, Want: true},
	{Rule: "role:%(role)s", Roles: []string{"x"}, Target: map[string]string{"role": "X"}, Want: true},
	{Rule: "role:admin or", Roles: []string{"admin"}, Want: false},
	{Rule: "foo", Roles: []string{"admin"}, Want: false},
	{Rule: "foo or role:admin", Roles: []string{"admin"}, Want: true},
	{Rule: "role:admin and (role:member", Roles: []string{"admin", "member"}, Want: false},
	{Rule: "role:admin)", Roles: []string{"admin"}, Want: false},
	{Rule: "'role:admin' or role:member", Roles: []string{"member"}, Want: false},
	{Rule: "not role:admin", Roles: []string{"member"}, Want: true},
	{Rule: "NOT role:admin", Roles: []string{"admin"}, Want: false},
	{Rule: "role:member AND role:admin", Roles: []string{"member", "admin"}, Want: true},
	{Rule: "(role:a or role:b) and project_id:%(project_id)s", Roles: []string{"b"}, Project: "p1", Want: true},
	{Rule: "role:admin or role:member and project_id:p9", Roles: []string{"admin"}, Want: true},
	{Rule: "role:member and project_id:p9 or role:admin", Roles: []string{"admin"}, Want: true},
	{Rule: "((role:admin))", Roles: []string{"admin"}, Want: true},
	{Rule: "@", Want: true},
	{Rule: "!", Want: false},
	{Rule: "", Want: true},
	{Rule: "rule:helper", Roles: []string{"helper"}, Want: true},
	{Rule: "rule:nosuch", Roles: []string{"helper"}, Want: false},
	{Rule: "system_scope:all", Want: false},
	{Rule: []any{[]any{"role:admin"}, []any{"role:member", "project_id:%(project_id)s"}}, Roles: []string{"member"}, Project: "p1", Want: true},
	{Rule: []any{[]any{"role:admin"}, []any{"role:member", "project_id:%(project_id)s"}}, Roles: []string{"member"}, Project: "p2", Want: false},
	{Rule: []any{}, Want: true},
	{Rule: []any{"role:admin"}, Roles: []string{"admin"}, Want: true},
}

func (c policyCase) creds() Creds {
	return Creds{ProjectID: c.Project, UserID: "u1", DomainID: "default", ProjectDomainID: "default", Roles: c.Roles}
}

func (c policyCase) target() map[string]string {
	if c.Target != nil {
		return c.Target
	}
	return map[string]string{"project_id": "p1"}
}
