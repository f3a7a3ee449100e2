#!/usr/bin/python3
"""Seeds the test Keystone: projects, users, roles, catalog, EC2 credentials.

Idempotent: whatever exists already is kept, whatever is missing is made.
It runs in one Python process with one admin session, because each
`openstack` CLI call costs more than a second of start-up on these machines.
It prints KEY=VALUE lines (ids and EC2 keys) for up.sh's environment file.

Must run with Debian's /usr/bin/python3 (the modules come from python3-*
packages). Usage: ks_seed.py AUTH_URL ADMIN_PASSWORD SPEC_JSON
"""

import json
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client


def find(manager, name, **kw):
    for item in manager.list(name=name, **kw):
        if item.name == name:
            return item
    return None


def ensure_project(ks, name, domain):
    p = find(ks.projects, name, domain=domain)
    return p or ks.projects.create(name=name, domain=domain,
                                   description="freezer test environment")


def ensure_role(ks, name):
    return find(ks.roles, name) or ks.roles.create(name=name)


def ensure_user(ks, name, password, project, domain):
    u = find(ks.users, name, domain=domain)
    if u is None:
        u = ks.users.create(name=name, password=password, domain=domain,
                            default_project=project, enabled=True)
    return u


def ensure_grant(ks, role, user, project):
    try:
        ks.roles.check(role, user=user, project=project)
    except Exception:  # keystoneclient raises NotFound when absent
        ks.roles.grant(role, user=user, project=project)


def ensure_service(ks, stype, name):
    for s in ks.services.list(type=stype):
        if s.name == name:
            return s
    return ks.services.create(name=name, type=stype, enabled=True)


def ensure_endpoints(ks, service, region, urls):
    have = {e.interface: e for e in ks.endpoints.list(service=service,
                                                       region=region)}
    for iface, url in urls.items():
        e = have.get(iface)
        if e is None:
            ks.endpoints.create(service=service, url=url, interface=iface,
                                region=region, enabled=True)
        elif e.url != url:
            ks.endpoints.update(e, url=url)


def ensure_ec2(ks, user, project):
    for c in ks.ec2.list(user.id):
        if c.tenant_id == project.id:
            return c
    return ks.ec2.create(user.id, project.id)


def main():
    auth_url, admin_pw, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    auth = v3.Password(auth_url=auth_url, username="admin", password=admin_pw,
                       project_name="admin", user_domain_id="default",
                       project_domain_id="default")
    sess = ks_session.Session(auth=auth, timeout=30)
    ks = ks_client.Client(session=sess, region_name=spec["region"])
    domain = ks.domains.get("default")

    roles = {r: ensure_role(ks, r) for r in ("admin", "member", "reader",
                                             "service")}
    out = {}
    admin_user = find(ks.users, "admin", domain=domain)
    admin_project = find(ks.projects, "admin", domain=domain)
    out["ADMIN_OS_USER_ID"] = admin_user.id
    out["ADMIN_OS_PROJECT_ID"] = admin_project.id

    projects = {}
    for u in spec["users"]:
        pname = u["project"]
        if pname not in projects:
            projects[pname] = ensure_project(ks, pname, domain)
        p = projects[pname]
        user = ensure_user(ks, u["name"], u["password"], p, domain)
        for r in u["roles"]:
            ensure_grant(ks, roles[r], user, p)
        key = u["name"].upper()
        out[key + "_OS_USER_ID"] = user.id
        out[key + "_OS_PROJECT_ID"] = p.id
        if u.get("ec2"):
            c = ensure_ec2(ks, user, p)
            out[key + "_S3_ACCESS_KEY"] = c.access
            out[key + "_S3_SECRET_KEY"] = c.secret

    for svc in spec["services"]:
        s = ensure_service(ks, svc["type"], svc["name"])
        ensure_endpoints(ks, s, spec["region"], svc["urls"])

    for k in sorted(out):
        print("%s=%s" % (k, out[k]))


if __name__ == "__main__":
    main()
