package apiconf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	a, rest, err := ParseArgs(APICommandLine(), []string{"--config-file", "a.conf", "db", "--config-dir=d", "sync", "--bind-port", "9999", "--debug", "--print-sample-config"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.ConfigFiles, []string{"a.conf"}) || !reflect.DeepEqual(a.ConfigDirs, []string{"d"}) || !reflect.DeepEqual(rest, []string{"db", "sync"}) {
		t.Fatalf("%+v %v", a, rest)
	}
	if port, _ := a.Overrides.Last("", "bind_port"); port != "9999" || !a.Overrides.Bool("", "debug") || !a.Overrides.Bool("", "print_sample_config") {
		t.Fatalf("%+v", a.Overrides)
	}
	for _, bad := range [][]string{{"--config-file"}, {"--bind-port", "x"}, {"--frobnicate"}} {
		if _, _, err := ParseArgs(APICommandLine(), bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// freezer-manage prints no samples.
	if _, _, err := ParseArgs(ManageCommandLine(), []string{"--print-policy"}); err == nil {
		t.Error("freezer-manage accepted --print-policy")
	}
}

// Every freezer-api option may be given on the command line, grouped ones
// as --group-name too, and wins over the files.
func TestCommandLineOverridesFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "freezer-api.conf")
	if err := os.WriteFile(conf, []byte("[api]\nmax_limit = 5\n[keystone_authtoken]\ntoken_cache_time = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _, err := ParseArgs(APICommandLine(), []string{"--config-file", conf, "--api-max-limit", "9", "--database-max-retries=2"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxLimit != 9 || s.ConnectRetries != 2 || s.Keystone.CacheTime != 7*time.Second {
		t.Errorf("max_limit %d, max_retries %d, token_cache_time %s", s.MaxLimit, s.ConnectRetries, s.Keystone.CacheTime)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "freezer-api.conf")
	os.WriteFile(conf, []byte(`[DEFAULT]
bind_port = 9191
auth_strategy = noauth
sql_connection = mysql+pymysql://freezer:pw@db/freezer
log_dir = /var/log/freezer
log_file = api.log
[keystone_authtoken]
auth_uri = http://keystone:5000/v3
password = secret
memcached_servers = 127.0.0.1:11211
project_domain_id = default
user_domain_id = dom-1
cafile = /etc/ssl/private-ca.pem
insecure = true
[centralized_scheduler]
trusts_delegated_roles =
[oslo_policy]
policy_file = my-policy.yaml
`), 0o600)
	os.WriteFile(filepath.Join(dir, "my-policy.yaml"), []byte("{}"), 0o600)
	confd := filepath.Join(dir, "conf.d")
	os.Mkdir(confd, 0o700)
	os.WriteFile(filepath.Join(confd, "10-port.conf"), []byte("[DEFAULT]\nbind_port = 9292\n"), 0o600)
	s, err := Load(Args{ConfigFiles: []string{conf}, ConfigDirs: []string{confd}})
	if err != nil {
		t.Fatal(err)
	}
	if s.BindPort != 9292 || s.AuthStrategy != "noauth" || s.Connection.Reveal() != "mysql+pymysql://freezer:pw@db/freezer" {
		t.Fatalf("%+v", s)
	}
	if s.Keystone.AuthURL != "http://keystone:5000/v3" || s.Keystone.WWWAuthenticateURI != "http://keystone:5000/v3" || s.Keystone.CacheTime != 300*time.Second ||
		s.Keystone.ProjectDomainID != "default" || s.Keystone.UserDomainID != "dom-1" || s.Keystone.ProjectDomainName != "Default" ||
		s.Keystone.TLS.CAFile != "/etc/ssl/private-ca.pem" || !s.Keystone.TLS.Insecure || s.Keystone.TLS.CertFile != "" {
		t.Fatalf("keystone %+v", s.Keystone)
	}
	if s.Log.Path("freezer-api") != "/var/log/freezer/api.log" || s.PolicyFile != filepath.Join(dir, "my-policy.yaml") || s.MaxLimit != 10000 {
		t.Fatalf("%+v", s)
	}
	if !s.Trusts.Enabled || len(s.Trusts.Roles) != 0 {
		t.Fatalf("trusts %+v", s.Trusts)
	}
	if s.Connection.String() != "***" {
		t.Fatal("connection URL printable")
	}
	// Defaults: the embedded database, keystone auth.
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, nil, 0o600)
	s, err = Load(Args{ConfigFiles: []string{empty}})
	if err != nil || s.Connection.Reveal() != DefaultConnection || s.AuthStrategy != "keystone" || s.BindPort != 9090 || s.MaxBodyBytes != 1<<20 {
		t.Fatalf("defaults %+v %v", s, err)
	}
	os.WriteFile(empty, []byte("[api]\nauth_strategy = none\n"), 0o600)
	if _, err := Load(Args{ConfigFiles: []string{empty}}); err == nil {
		t.Fatal("bad choice accepted")
	}
}

// An operator's file written for oslo.config: "$option" substitutes, and a
// dollar in a password is escaped as "$$".
func TestLoadSubstitutesAsOslo(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "freezer-api.conf")
	os.WriteFile(conf, []byte(`[DEFAULT]
log_dir = /var/log/freezer
log_file = $log_dir/api.log
[database]
connection = mysql+pymysql://freezer:pa$$w0rd@db/freezer
[keystone_authtoken]
www_authenticate_uri = http://keystone:5000/v3
auth_url = $www_authenticate_uri
password = \$ecret
`), 0o600)
	s, err := Load(Args{ConfigFiles: []string{conf}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Connection.Reveal(); got != "mysql+pymysql://freezer:pa$w0rd@db/freezer" {
		t.Errorf("connection = %q", got)
	}
	if s.Keystone.AuthURL != "http://keystone:5000/v3" || s.Keystone.Password.Reveal() != "$ecret" {
		t.Errorf("keystone auth_url %q password %q", s.Keystone.AuthURL, s.Keystone.Password.Reveal())
	}
	if s.Log.Path("freezer-api") != "/var/log/freezer/api.log" {
		t.Errorf("log file %q", s.Log.Path("freezer-api"))
	}
	os.WriteFile(conf, []byte("[database]\nconnection = mysql+pymysql://freezer:pa$word@db/freezer\n"), 0o600)
	_, err = Load(Args{ConfigFiles: []string{conf}})
	if err == nil || !strings.Contains(err.Error(), `option [database] connection: a "$" in the value names no option`) {
		t.Errorf("an unescaped $ in a password: %v, want oslo's error, named", err)
	}
	if strings.Contains(err.Error(), "word") {
		t.Errorf("error %q shows a piece of the secret", err)
	}
}
